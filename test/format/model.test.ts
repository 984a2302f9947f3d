import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { DEFAULT_HELP, getSeries, mergeFamilies, removeFamilies, setSeries, unsetSeries } from '../../src/format/model.js';
import { parseExposition } from '../../src/format/parse.js';
import { renderExposition } from '../../src/format/render.js';
import { parseLabelOption, parseSeriesSelector, parseSeriesValues } from '../../src/cli/series.js';
import { validateFamilies, validateFamily } from '../../src/format/validate.js';
import type { MetricFamily } from '../../src/format/types.js';

const base = parseExposition(
  [
    '# HELP jobs_total Jobs.',
    '# TYPE jobs_total counter',
    'jobs_total{queue="a"} 3',
    '# HELP lat Latency.',
    '# TYPE lat histogram',
    'lat_bucket{le="1"} 1',
    'lat_bucket{le="+Inf"} 2',
    'lat_sum 3',
    'lat_count 2',
    '',
  ].join('\n'),
);

describe('setSeries', () => {
  it('adds new families with the default HELP and an inferred type', () => {
    const families = setSeries(
      [],
      [
        { name: 'a_total', labels: {}, value: 1 },
        { name: 'b', labels: {}, value: 2 },
      ],
    );
    expect(families.map((f) => [f.name, f.type, f.help])).toEqual([
      ['a_total', 'counter', DEFAULT_HELP],
      ['b', 'gauge', DEFAULT_HELP],
    ]);
  });

  it('replaces a series with the same labels (an empty label value counts as absent) and keeps the rest', () => {
    const families = setSeries(base, [{ name: 'jobs_total', labels: { queue: 'a', extra: '' }, value: 9 }]);
    expect(getSeries(families, 'jobs_total', { queue: 'a' })?.value).toBe(9);
    expect(families.find((f) => f.name === 'jobs_total')?.samples).toHaveLength(1);
    expect(families.find((f) => f.name === 'lat')).toEqual(base.find((f) => f.name === 'lat'));
    expect(families.find((f) => f.name === 'jobs_total')?.help).toBe('Jobs.');
  });

  it('uses the existing type, and refuses a conflicting --type', () => {
    expect(setSeries(base, [{ name: 'jobs_total', labels: { queue: 'b' }, value: 1 }])[0]?.type).toBe('counter');
    expect(() => setSeries(base, [{ name: 'jobs_total', labels: {}, value: 1 }], { type: 'gauge' })).toThrow(
      /is a counter in the file, not a gauge/,
    );
  });

  it('refuses negative counters and writing into a histogram', () => {
    expect(() => setSeries([], [{ name: 'x_total', labels: {}, value: -1 }])).toThrow(InputError);
    expect(() => setSeries(base, [{ name: 'lat_count', labels: {}, value: 1 }])).toThrow(/belongs to histogram "lat"/);
    expect(() => setSeries(base, [{ name: 'lat', labels: {}, value: 1 }])).toThrow(/belongs to histogram "lat"/);
  });

  it('lets the last of two values for one series win', () => {
    const families = setSeries(
      [],
      [
        { name: 'g', labels: {}, value: 1 },
        { name: 'g', labels: {}, value: 2 },
      ],
    );
    expect(families[0]?.samples).toEqual([{ name: 'g', labels: {}, value: 2 }]);
  });
});

describe('mergeFamilies', () => {
  it('replaces a whole histogram label group and keeps other groups', () => {
    const incoming = parseExposition('# TYPE lat histogram\nlat_bucket{le="+Inf"} 5\nlat_sum 1\nlat_count 5\n');
    const withOther = mergeFamilies(
      base,
      parseExposition('# TYPE lat histogram\nlat_bucket{k="x",le="+Inf"} 1\nlat_sum{k="x"} 1\nlat_count{k="x"} 1\n'),
    );
    const merged = mergeFamilies(withOther, incoming);
    const lat = merged.find((f) => f.name === 'lat') as MetricFamily;
    expect(lat.samples.filter((s) => !('k' in s.labels)).map((s) => s.value)).toEqual([5, 1, 5]);
    expect(lat.samples.filter((s) => 'k' in s.labels)).toHaveLength(3);
    expect(lat.help).toBe('Latency.');
    expect(validateFamily(lat).filter((p) => p.severity !== 'notice')).toEqual([]);
  });

  it('refuses a type conflict', () => {
    expect(() => mergeFamilies(base, [{ name: 'jobs_total', help: undefined, type: 'gauge', samples: [] }])).toThrow(
      /conflict|is a counter/,
    );
  });
});

describe('unset and remove', () => {
  it('removes exact series and drops emptied families', () => {
    const { families, removed } = unsetSeries(base, [{ name: 'jobs_total', labels: { queue: 'a' } }]);
    expect(removed).toBe(1);
    expect(families.map((f) => f.name)).toEqual(['lat']);
    expect(unsetSeries(base, [{ name: 'jobs_total', labels: {} }]).removed).toBe(0);
  });

  it('removes whole families', () => {
    expect(removeFamilies(base, ['lat']).families.map((f) => f.name)).toEqual(['jobs_total']);
  });
});

describe('validation of models built in code', () => {
  it('reports duplicates, bad names, reserved labels and shape problems with stable rules', () => {
    const families: MetricFamily[] = [
      {
        name: 'dup',
        help: 'x',
        type: 'gauge',
        samples: [
          { name: 'dup', labels: { a: '1' }, value: 1 },
          { name: 'dup', labels: { a: '1' }, value: 2 },
        ],
      },
      { name: 'bad-name', help: 'x', type: 'gauge', samples: [{ name: 'bad-name', labels: {}, value: 1 }] },
      { name: 'r', help: 'x', type: 'gauge', samples: [{ name: 'r', labels: { __secret: '1' }, value: 1 }] },
      { name: 'h', help: 'x', type: 'histogram', samples: [{ name: 'h_bucket', labels: { le: '1' }, value: 1 }] },
      { name: 'h_sum', help: 'x', type: 'gauge', samples: [{ name: 'h_sum', labels: {}, value: 1 }] },
    ];
    const rules = [...families.flatMap((f) => validateFamily(f)), ...validateFamilies(families)].map((p) => p.rule);
    expect(rules).toEqual(expect.arrayContaining(['duplicate-series', 'metric-name', 'label-name', 'histogram-shape', 'name-collision']));
  });

  it('renders what it validates: a valid model renders to text that parses back equal', () => {
    const families = setSeries([], [{ name: 'm', labels: { path: 'a\\b\n"c"' }, value: NaN }]);
    expect(parseExposition(renderExposition(families))).toEqual(families);
  });
});

describe('series arguments', () => {
  it.each([
    [['a=1'], [{ name: 'a', labels: {}, value: 1 }]],
    [['a', '-2.5e3'], [{ name: 'a', labels: {}, value: -2500 }]],
    [
      ['a{x="1",y="="}=+Inf', 'b', 'NaN'],
      [
        { name: 'a', labels: { x: '1', y: '=' }, value: Infinity },
        { name: 'b', labels: {}, value: NaN },
      ],
    ],
    [['a{x="q\\"\\n"}', '0'], [{ name: 'a', labels: { x: 'q"\n' }, value: 0 }]],
  ])('%j', (args, expected) => {
    const values = parseSeriesValues(args, {}, 0).map(({ source: _source, ...rest }) => rest);
    expect(values).toEqual(expected);
  });

  it('reads now as Unix seconds with millisecond precision', () => {
    expect(parseSeriesValues(['t=now'], {}, 1_700_000_000_123)[0]?.value).toBe(1_700_000_000.123);
  });

  it('adds -l labels and refuses a label given twice', () => {
    expect(parseSeriesValues(['a=1'], { origin: 'x' }, 0)[0]?.labels).toEqual({ origin: 'x' });
    expect(() => parseSeriesValues(['a{origin="y"}=1'], { origin: 'x' }, 0)).toThrow(/given both/);
  });

  it('parses -l NAME=VALUE literally, keeping "=" in the value', () => {
    expect(parseLabelOption('url=a=b')).toEqual(['url', 'a=b']);
    expect(() => parseLabelOption('novalue')).toThrow(/expected NAME=VALUE/);
  });

  it('parses selectors and refuses trailing text', () => {
    expect(parseSeriesSelector('m{a="1"}')).toEqual({ name: 'm', labels: { a: '1' } });
    expect(() => parseSeriesSelector('m{a="1"} x')).toThrow(/unexpected/);
  });
});
