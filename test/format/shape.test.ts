import { describe, expect, it } from 'vitest';
import {
  addedMembers,
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

describe('addedMembers', () => {
  const given = (inf: number | undefined, sum: number | undefined, count: number | undefined) => ({ inf, sum, count });
  // What node_exporter 1.5 and 1.9 expose for a series lacking members (test/e2e/histogram-fidelity.test.ts scrapes them).
  it.each([
    ['histogram, complete', 'histogram', given(3, 2, 3), []],
    ['histogram without +Inf', 'histogram', given(undefined, 2, 3), [['_bucket', 3, true]]],
    ['histogram without _count', 'histogram', given(3, 2, undefined), [['_count', 0, false]]],
    ['histogram without _count, +Inf 0', 'histogram', given(0, 0, undefined), [['_count', 0, true]]],
    ['histogram without _sum', 'histogram', given(3, undefined, 3), [['_sum', 0, false]]],
    ['histogram without _sum, count 0', 'histogram', given(0, undefined, 0), [['_sum', 0, true]]],
    [
      'histogram of a +Inf bucket of 0 alone',
      'histogram',
      given(0, undefined, undefined),
      [
        ['_count', 0, true],
        ['_sum', 0, true],
      ],
    ],
    [
      'histogram of _count 0 alone',
      'histogram',
      given(undefined, undefined, 0),
      [
        ['_bucket', 0, true],
        ['_sum', 0, true],
      ],
    ],
    [
      'histogram of _sum alone',
      'histogram',
      given(undefined, 2, undefined),
      [
        ['_count', 0, false],
        ['_bucket', 0, false],
      ],
    ],
    ['summary without _count', 'summary', given(undefined, 2, undefined), [['_count', 0, false]]],
    ['summary without _sum, count 0', 'summary', given(undefined, undefined, 0), [['_sum', 0, true]]],
    ['summary without _sum', 'summary', given(undefined, undefined, 2), [['_sum', 0, false]]],
    [
      'summary of quantiles alone',
      'summary',
      given(undefined, undefined, undefined),
      [
        ['_count', 0, false],
        ['_sum', 0, false],
      ],
    ],
  ] as const)('%s', (_name, type, series, expected) => {
    expect(addedMembers(type, series).map((member) => [member.suffix, member.value, member.implied])).toEqual(expected);
  });
});
