import { describe, expect, it } from 'vitest';
import { ExpositionError } from '../../src/errors.js';
import type { MetricFamily } from '../../src/format/types.js';
import {
  assertWritable,
  describeSeries,
  labelNameProblem,
  metricNameProblem,
  seriesKey,
  validateFamilies,
  validateFamily,
} from '../../src/format/validate.js';

const gauge = (samples: MetricFamily['samples'], name = 'm'): MetricFamily => ({ name, help: 'M.', type: 'gauge', samples });

describe('seriesKey', () => {
  it('treats an empty label value as an absent label, as node_exporter pads missing labels with ""', () => {
    expect(seriesKey('m', { a: '1', b: '' })).toBe(seriesKey('m', { a: '1' }));
    expect(seriesKey('m', { a: '1' })).not.toBe(seriesKey('m', { a: '2' }));
  });

  it('ignores label order, and compares bound labels as numbers', () => {
    expect(seriesKey('m', { b: '2', a: '1' })).toBe(seriesKey('m', { a: '1', b: '2' }));
    expect(seriesKey('h_bucket', { le: '1' })).toBe(seriesKey('h_bucket', { le: '1.0' }));
    expect(seriesKey('m', { x: '1' })).not.toBe(seriesKey('m', { x: '1.0' }));
  });

  it('can leave one label out (the group of a histogram or summary)', () => {
    expect(seriesKey('', { a: '1', le: '0.5' }, 'le')).toBe(seriesKey('', { a: '1' }));
  });
});

describe('validateFamily', () => {
  it('finds a duplicate series, even when spelled with an empty label', () => {
    const problems = validateFamily(
      gauge([
        { name: 'm', labels: { a: '1' }, value: 1 },
        { name: 'm', labels: { a: '1', b: '' }, value: 2 },
        { name: 'm', labels: { a: '2' }, value: 3 },
      ]),
    );
    expect(problems.map((p) => [p.rule, p.severity, p.sample])).toEqual([['duplicate-series', 'error', 1]]);
  });

  it('finds thousands of distinct series without a false duplicate', () => {
    const samples = Array.from({ length: 5000 }, (_, i) => ({ name: 'm', labels: { id: String(i), k: String(i % 7) }, value: i }));
    expect(validateFamily(gauge(samples))).toEqual([]);
  });

  it('refuses a sample name that does not belong to the histogram', () => {
    const family: MetricFamily = { name: 'h', help: 'H.', type: 'histogram', samples: [{ name: 'h_total', labels: {}, value: 1 }] };
    expect(validateFamily(family).map((p) => p.rule)).toContain('sample-name');
  });

  it('notes a family with no samples', () => {
    expect(validateFamily(gauge([])).map((p) => [p.rule, p.severity])).toEqual([['empty-family', 'notice']]);
  });
});

describe('validateFamily: histogram and summary shape', () => {
  const histogram = (samples: MetricFamily['samples']): MetricFamily => ({ name: 'h', help: 'H.', type: 'histogram', samples });
  const rules = (family: MetricFamily): Array<[string, string, number | undefined]> =>
    validateFamily(family).map((p) => [p.rule, p.severity, p.sample]);

  it('warns once about what node_exporter adds and the series implies, saying what it is', () => {
    const problems = validateFamily(histogram([{ name: 'h_bucket', labels: { le: '+Inf' }, value: 0 }]));
    expect(problems.map((p) => [p.rule, p.severity, p.message])).toEqual([
      [
        'histogram-shape',
        'warning',
        'histogram h is incomplete: node_exporter adds h_count 0 (its le="+Inf" bucket is 0) and h_sum 0 (its count is 0); promfile writes them so',
      ],
    ]);
  });

  it('refuses what node_exporter makes up: a _count beside a +Inf bucket that is not 0, a _sum beside a count', () => {
    const problems = validateFamily(
      histogram([
        { name: 'h_bucket', labels: { le: '+Inf' }, value: 3 },
        { name: 'h_sum', labels: {}, value: 2 },
        { name: 'h_bucket', labels: { x: '1', le: '+Inf' }, value: 3 },
        { name: 'h_count', labels: { x: '1' }, value: 3 },
      ]),
    );
    expect(problems.map((p) => [p.severity, p.message, p.sample])).toEqual([
      ['error', 'histogram h lacks h_count: node_exporter exposes h_count 0 beside its le="+Inf" bucket of 3; write h_count 3', 0],
      ['error', 'histogram h{x="1"} lacks h_sum: node_exporter exposes h_sum 0, though h_count is 3; write h_sum', 2],
    ]);
  });

  it('refuses a bucket le="NaN", which node_exporter drops', () => {
    const family = histogram([
      { name: 'h_bucket', labels: { le: 'NaN' }, value: 1 },
      { name: 'h_bucket', labels: { le: '+Inf' }, value: 1 },
      { name: 'h_sum', labels: {}, value: 1 },
      { name: 'h_count', labels: {}, value: 1 },
    ]);
    expect(rules(family)).toEqual([['histogram-shape', 'error', 0]]);
    expect(validateFamily(family)[0]?.message).toMatch(/node_exporter drops the bucket/);
  });

  it('refuses one series spelled with and without an empty label: node_exporter reads two and drops one', () => {
    const family = histogram([
      { name: 'h_bucket', labels: { le: '+Inf' }, value: 3 },
      { name: 'h_sum', labels: {}, value: 3 },
      { name: 'h_count', labels: { x: '' }, value: 3 },
    ]);
    expect(rules(family)).toEqual([['duplicate-series', 'error', 2]]);
    // Spelled alike (empty label everywhere, or in another order), it is one series.
    const alike = histogram([
      { name: 'h_bucket', labels: { x: '', y: '', le: '+Inf' }, value: 3 },
      { name: 'h_sum', labels: { y: '', x: '' }, value: 3 },
      { name: 'h_count', labels: { x: '', y: '' }, value: 3 },
    ]);
    expect(validateFamily(alike)).toEqual([]);
  });

  it('says a repeated bucket bound keeps the last bucket (no gather error)', () => {
    const family = histogram([
      { name: 'h_bucket', labels: { le: '1' }, value: 1 },
      { name: 'h_bucket', labels: { le: '1.0' }, value: 2 },
      { name: 'h_bucket', labels: { le: '+Inf' }, value: 2 },
      { name: 'h_sum', labels: {}, value: 1 },
      { name: 'h_count', labels: {}, value: 2 },
    ]);
    expect(validateFamily(family).map((p) => [p.rule, p.message])).toEqual([
      ['duplicate-series', 'duplicate series h_bucket{le="1.0"}: node_exporter keeps only the last bucket of that bound, silently'],
    ]);
  });
});

describe('validateFamilies', () => {
  it('finds a family defined twice and a suffix collision with a histogram', () => {
    const h: MetricFamily = {
      name: 'h',
      help: 'H.',
      type: 'histogram',
      samples: [
        { name: 'h_bucket', labels: { le: '+Inf' }, value: 1 },
        { name: 'h_sum', labels: {}, value: 1 },
        { name: 'h_count', labels: {}, value: 1 },
      ],
    };
    const problems = validateFamilies([h, gauge([{ name: 'h_sum', labels: {}, value: 1 }], 'h_sum'), gauge([], 'x'), gauge([], 'x')]);
    expect(problems.map((p) => p.rule).sort()).toEqual(['duplicate-family', 'name-collision']);
  });
});

describe('names and messages', () => {
  it('refuses invalid and reserved names', () => {
    expect(metricNameProblem('disk-used')).toMatch(/invalid metric name/);
    expect(metricNameProblem('ok:name_1')).toBeUndefined();
    expect(labelNameProblem('__x')).toMatch(/reserved/);
    expect(labelNameProblem('a:b')).toMatch(/invalid label name/);
  });

  it('describes a series as name{label="value"}', () => {
    expect(describeSeries({ name: 'm', labels: { a: 'x"y' } })).toBe('m{a="x\\"y"}');
    expect(describeSeries({ name: 'm', labels: {} })).toBe('m');
  });

  it('assertWritable throws the first blocking problem as an ExpositionError', () => {
    const duplicate = gauge([
      { name: 'm', labels: {}, value: 1 },
      { name: 'm', labels: {}, value: 2 },
    ]);
    expect(() => assertWritable([duplicate], 'push')).toThrow(ExpositionError);
    expect(() => assertWritable([duplicate], 'push')).toThrow(/^push: duplicate series m/);
    expect(() => assertWritable([gauge([{ name: 'm', labels: {}, value: 1 }])])).not.toThrow();
  });
});
