import { describe, expect, it } from 'vitest';
import {
  boundLabel,
  familyShape,
  isBoundLabel,
  memberSuffix,
  owningFamily,
  splitCompositeSuffix,
  stripMemberSuffix,
} from '../../src/format/shape.js';
import type { MetricType } from '../../src/format/types.js';

describe('familyShape', () => {
  it('knows the members and bound label of histograms and summaries, and nothing for the other types', () => {
    expect(familyShape('histogram')).toMatchObject({ suffixes: ['_bucket', '_sum', '_count'], bound: 'le', pointSuffix: '_bucket' });
    expect(familyShape('summary')).toMatchObject({ suffixes: ['', '_sum', '_count'], bound: 'quantile', pointSuffix: '' });
    for (const type of ['counter', 'gauge', 'untyped'] as const) {
      expect(familyShape(type)).toBeUndefined();
      expect(boundLabel(type)).toBeUndefined();
    }
  });

  it('counts: buckets and _count of a histogram, only _count of a summary', () => {
    expect(familyShape('histogram')?.countSuffixes).toEqual(['_bucket', '_count']);
    expect(familyShape('summary')?.countSuffixes).toEqual(['_count']);
  });

  it('collisions: _bucket collides only beside a histogram (client_golang checkSuffixCollisions)', () => {
    expect(familyShape('histogram')?.collisions).toContain('_bucket');
    expect(familyShape('summary')?.collisions).not.toContain('_bucket');
  });
});

describe('member names', () => {
  it.each([
    ['histogram', 'h', 'h_bucket', '_bucket'],
    ['histogram', 'h', 'h_count', '_count'],
    ['histogram', 'h', 'h', undefined],
    ['histogram', 'h', 'h_total', undefined],
    ['summary', 's', 's', ''],
    ['summary', 's', 's_sum', '_sum'],
    ['summary', 's', 's_bucket', undefined],
    ['gauge', 'g', 'g_sum', undefined],
  ] as const)('%s %s: %s → %s', (type, family, name, suffix) => {
    expect(memberSuffix(type, family, name)).toBe(suffix);
  });

  it('strips a suffix the way the parser finds a family, never to an empty name', () => {
    expect(stripMemberSuffix('histogram', 'x_bucket')).toBe('x');
    expect(stripMemberSuffix('summary', 'x_bucket')).toBe('x_bucket');
    expect(stripMemberSuffix('summary', '_sum')).toBe('_sum');
    expect(splitCompositeSuffix('a_count')).toEqual({ base: 'a', suffix: '_count' });
    expect(splitCompositeSuffix('_count')).toBeUndefined();
  });

  it('bound labels are exactly le and quantile', () => {
    expect(['le', 'quantile', 'lE', 'q'].map(isBoundLabel)).toEqual([true, true, false, false]);
  });
});

describe('owningFamily', () => {
  const families = new Map<string, { name: string; type: MetricType | undefined }>(
    [
      ['h', 'histogram'],
      ['s', 'summary'],
      ['g', 'gauge'],
      ['g_sum', 'gauge'],
      ['t', undefined],
    ].map(([name, type]) => [name as string, { name: name as string, type: type as MetricType | undefined }]),
  );

  it.each([
    ['h_bucket', 'h'],
    ['h_sum', 'h'],
    ['h', 'h'],
    ['s_count', 's'],
    ['s_bucket', undefined],
    ['g_sum', 'g_sum'],
    ['g_count', undefined],
    ['t_sum', undefined],
    ['new', undefined],
  ])('a line of %s belongs to %s, as node_exporter assigns it', (name, owner) => {
    expect(owningFamily(families, name)?.name).toBe(owner);
  });
});
