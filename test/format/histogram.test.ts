// One observation at a time into a histogram kept in a file.
import { describe, expect, it } from 'vitest';
import { DEFAULT_BUCKETS, observeHistogram, parseBuckets } from '../../src/format/histogram.js';
import { parseExposition } from '../../src/format/parse.js';
import { renderExposition } from '../../src/format/render.js';
import type { MetricFamily } from '../../src/format/types.js';
import { assertWritable } from '../../src/format/validate.js';

const observe = (families: MetricFamily[], value: number, buckets?: number[], labels = { path: '/a' }) =>
  observeHistogram(families, { name: 'req_seconds', labels, value, ...(buckets ? { buckets } : {}) });

describe('observeHistogram', () => {
  it('creates the family with cumulative buckets, +Inf, _sum and _count', () => {
    const { families, reset } = observe([], 3, [1, 5]);
    expect(reset).toBe(false);
    expect(renderExposition(families)).toBe(
      [
        '# HELP req_seconds Written by promfile.',
        '# TYPE req_seconds histogram',
        'req_seconds_bucket{path="/a",le="1"} 0',
        'req_seconds_bucket{path="/a",le="5"} 1',
        'req_seconds_bucket{path="/a",le="+Inf"} 1',
        'req_seconds_sum{path="/a"} 3',
        'req_seconds_count{path="/a"} 1',
        '',
      ].join('\n'),
    );
  });

  it('accumulates across observations read back from the file, keeping its layout and other series', () => {
    let families = parseExposition(renderExposition(observe([], 0.5, [1, 5]).families));
    families = observe(families, 7, undefined, { path: '/b' }).families;
    families = parseExposition(renderExposition(observe(families, 1).families));
    const text = renderExposition(families);
    expect(text).toContain('req_seconds_bucket{path="/a",le="1"} 2\n');
    expect(text).toContain('req_seconds_bucket{path="/a",le="5"} 2\n');
    expect(text).toContain('req_seconds_sum{path="/a"} 1.5\n');
    expect(text).toContain('req_seconds_count{path="/a"} 2\n');
    // A new series gets the default layout, not another series' one.
    expect(text).toContain(`req_seconds_bucket{path="/b",le="${DEFAULT_BUCKETS.at(-1)}"} 1\n`);
    expect(() => assertWritable(families)).not.toThrow();
  });

  it('starts the series again when the bucket layout changes, and says so', () => {
    const first = observe(observe([], 2, [1, 5]).families, 2, [1, 5]).families;
    const { families, reset } = observe(first, 2, [1, 10]);
    expect(reset).toBe(true);
    const text = renderExposition(families);
    expect(text).toContain('req_seconds_count{path="/a"} 1\n');
    expect(text).not.toContain('le="5"');
  });

  it('refuses a non-histogram family, an le label and a non-finite value', () => {
    const gauge: MetricFamily[] = [
      { name: 'req_seconds', help: 'x', type: 'gauge', samples: [{ name: 'req_seconds', labels: {}, value: 1 }] },
    ];
    expect(() => observe(gauge, 1)).toThrow(/is a gauge in the file, not a histogram/);
    expect(() => observe([], 1, undefined, { le: '1' } as never)).toThrow(/"le" label/);
    expect(() => observe([], NaN)).toThrow(/finite/);
  });
});

describe('parseBuckets', () => {
  it('takes increasing numbers; a trailing +Inf is implied', () => {
    expect(parseBuckets('0.1, 1,10,+Inf', '--buckets')).toEqual([0.1, 1, 10]);
  });
  it.each(['', '1,1', '5,1', '1,x', '1,NaN'])('refuses %j', (text) => {
    expect(() => parseBuckets(text, '--buckets')).toThrow(/--buckets .*increasing numbers/);
  });
});
