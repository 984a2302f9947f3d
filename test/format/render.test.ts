import { describe, expect, it } from 'vitest';
import { parseExposition } from '../../src/format/parse.js';
import { escapeHelp, escapeLabelValue, renderChunks, renderExposition, renderFamily } from '../../src/format/render.js';
import type { MetricFamily } from '../../src/format/types.js';

const gauge = (name: string, samples: MetricFamily['samples'], help?: string): MetricFamily => ({ name, help, type: 'gauge', samples });

describe('renderExposition', () => {
  it('sorts families by byte order of names and ends with a newline', () => {
    const text = renderExposition([
      gauge('b', [{ name: 'b', labels: {}, value: 1 }], 'B.'),
      gauge('B', [{ name: 'B', labels: {}, value: 2 }], 'upper'),
      gauge('a', [{ name: 'a', labels: {}, value: 3 }]),
    ]);
    expect(text).toBe('# HELP B upper\n# TYPE B gauge\nB 2\n# TYPE a gauge\na 3\n# HELP b B.\n# TYPE b gauge\nb 1\n');
  });

  it('leaves out families without samples', () => {
    expect(renderExposition([gauge('empty', [], 'nothing'), gauge('x', [{ name: 'x', labels: {}, value: 0 }])])).toBe(
      '# TYPE x gauge\nx 0\n',
    );
    expect(renderFamily(gauge('empty', []))).toBe('');
  });

  it('spells NaN and ±Inf as Go does, and other numbers so that they parse back exactly', () => {
    const text = renderExposition([
      gauge('v', [
        { name: 'v', labels: { k: 'nan' }, value: NaN },
        { name: 'v', labels: { k: 'inf' }, value: Infinity },
        { name: 'v', labels: { k: 'ninf' }, value: -Infinity },
        { name: 'v', labels: { k: 'big' }, value: 1.5e21 },
        { name: 'v', labels: { k: 'small' }, value: 1e-7 },
      ]),
    ]);
    expect(text.split('\n').slice(1, -1)).toEqual([
      'v{k="nan"} NaN',
      'v{k="inf"} +Inf',
      'v{k="ninf"} -Inf',
      'v{k="big"} 1.5e+21',
      'v{k="small"} 1e-7',
    ]);
    expect(parseExposition(text)[0]?.samples.map((s) => s.value)).toEqual([NaN, Infinity, -Infinity, 1.5e21, 1e-7]);
  });

  it('groups histogram series: buckets ascending by le, then _sum and _count, per label set', () => {
    const h: MetricFamily = {
      name: 'h',
      help: 'H.',
      type: 'histogram',
      samples: [
        { name: 'h_count', labels: { x: '1' }, value: 2 },
        { name: 'h_bucket', labels: { x: '1', le: '+Inf' }, value: 2 },
        { name: 'h_sum', labels: { x: '1' }, value: 3 },
        { name: 'h_bucket', labels: { x: '1', le: '0.5' }, value: 1 },
      ],
    };
    expect(renderExposition([h])).toBe(
      '# HELP h H.\n# TYPE h histogram\nh_bucket{x="1",le="0.5"} 1\nh_bucket{x="1",le="+Inf"} 2\nh_sum{x="1"} 3\nh_count{x="1"} 2\n',
    );
  });

  it('writes what node_exporter adds to a series where the series implies it, and nothing it would make up', () => {
    const h = (samples: MetricFamily['samples']): MetricFamily => ({ name: 'h', help: undefined, type: 'histogram', samples });
    expect(
      renderFamily(
        h([
          { name: 'h_count', labels: { x: '1' }, value: 2 },
          { name: 'h_sum', labels: { x: '1' }, value: 3 },
          { name: 'h_bucket', labels: { x: '1', le: '0.5' }, value: 1 },
          { name: 'h_bucket', labels: { x: '2', le: '+Inf' }, value: 0 },
        ]),
      ),
    ).toBe(
      '# TYPE h histogram\nh_bucket{x="1",le="0.5"} 1\nh_bucket{x="1",le="+Inf"} 2\nh_sum{x="1"} 3\nh_count{x="1"} 2\n' +
        'h_bucket{x="2",le="+Inf"} 0\nh_sum{x="2"} 0\nh_count{x="2"} 0\n',
    );
    // A _count node_exporter would make up (0 beside a +Inf bucket of 3) is not written: validation refuses that series.
    expect(renderFamily(h([{ name: 'h_bucket', labels: { le: '+Inf' }, value: 3 }]))).toBe('# TYPE h histogram\nh_bucket{le="+Inf"} 3\n');
    const s: MetricFamily = { name: 's', help: undefined, type: 'summary', samples: [{ name: 's_count', labels: {}, value: 0 }] };
    expect(renderFamily(s)).toBe('# TYPE s summary\ns_sum 0\ns_count 0\n');
  });

  it('renders one chunk per family, the same text as the whole', () => {
    const families = parseExposition('# TYPE a counter\na 1\n# TYPE b gauge\nb 2\n');
    expect([...renderChunks(families)]).toEqual(['# TYPE a counter\na 1\n', '# TYPE b gauge\nb 2\n']);
  });
});

describe('escaping', () => {
  it('escapes backslash, quote and newline in label values, and parses back', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    const text = renderExposition([gauge('m', [{ name: 'm', labels: { v: 'a\\b"c\nd' }, value: 1 }])]);
    expect(parseExposition(text)[0]?.samples[0]?.labels).toEqual({ v: 'a\\b"c\nd' });
  });

  it('escapes backslash and newline in HELP, not quotes', () => {
    expect(escapeHelp('a\\b\n"c"')).toBe('a\\\\b\\n"c"');
  });
});
