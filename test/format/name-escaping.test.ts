// Prometheus' escaping schemes (prometheus/common model: EscapeName, and
// EscapeMetricFamily leaving legacy names alone), checked against vectors
// derived by hand from their definition, a round trip through an
// independent reading of UnescapeName for `values`, and the line transform
// that `write --escape-names` puts in front of the grammar.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLabelName, isMetricName } from '../../src/format/lex.js';
import {
  escapeFamilies,
  escapeName,
  escapeNonLegacy,
  NameEscaper,
  NAME_ESCAPINGS,
  type NameEscaping,
} from '../../src/format/name-escaping.js';
import { parseExposition } from '../../src/format/parse.js';
import { profileForVersion } from '../../src/format/profile.js';
import type { MetricFamily } from '../../src/format/types.js';

/** UnescapeName for `values`, read from its definition: `U__`, then `__` is `_` and `_hex_` a code point; anything else: the name as given. */
function unescapeValues(name: string): string {
  if (!name.startsWith('U__')) return name;
  const body = name.slice(3);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    if (body[i] !== '_') {
      out += body[i];
      continue;
    }
    if (body[i + 1] === '_') {
      out += '_';
      i++;
      continue;
    }
    const close = body.indexOf('_', i + 1);
    const hex = body.slice(i + 1, close);
    if (close === -1 || !/^[0-9a-fA-F]{1,6}$/.test(hex)) return name;
    const code = parseInt(hex, 16);
    if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return name;
    out += String.fromCodePoint(code);
    i = close;
  }
  return out;
}

// Each vector worked out from the scheme's rules, character by character.
const VECTORS: ReadonlyArray<[string, NameEscaping, string]> = [
  ['my.metric', 'underscores', 'my_metric'],
  ['0abc', 'underscores', '_abc'],
  ['a b→c', 'underscores', 'a_b_c'],
  ['日本', 'underscores', '__'],
  ['ok_name:x', 'underscores', 'ok_name:x'],
  ['my.metric', 'dots', 'my_dot_metric'],
  ['my.metric_total', 'dots', 'my_dot_metric__total'],
  ['a-b', 'dots', 'a__b'],
  ['1a.b', 'dots', '__a_dot_b'],
  ['a_b', 'dots', 'a__b'],
  ['my.metric', 'values', 'U__my_2e_metric'],
  ['my.metric_total', 'values', 'U__my_2e_metric__total'],
  ['0x', 'values', 'U___30_x'],
  ['é', 'values', 'U___e9_'],
  ['\u{1F600}', 'values', 'U___1f600_'],
  ['a b', 'values', 'U__a_20_b'],
  ['ok_name', 'values', 'ok_name'],
];

const anyName = fc.string({
  unit: fc.oneof(fc.constantFrom('.', '_', ':', '-', ' ', 'a', 'Z', '0', '9', 'U'), fc.string({ unit: 'grapheme', maxLength: 1 })),
});

describe('escapeName', () => {
  it.each(VECTORS)('%j by %s is %j', (name, scheme, escaped) => {
    expect(escapeName(name, scheme)).toBe(escaped);
  });

  it('leaves legacy names alone in a file, even by dots (as EscapeMetricFamily does)', () => {
    for (const scheme of NAME_ESCAPINGS) expect(escapeNonLegacy('http_requests_total', scheme)).toBe('http_requests_total');
    expect(escapeNonLegacy('a.b_c', 'dots')).toBe('a_dot_b__c');
  });

  it('always gives a legacy metric name', () => {
    fc.assert(
      fc.property(anyName, fc.constantFrom(...NAME_ESCAPINGS), (name, scheme) => {
        const escaped = escapeNonLegacy(name, scheme);
        expect(name === '' || isMetricName(escaped)).toBe(true);
      }),
    );
  });

  it('values round-trips every non-legacy name', () => {
    fc.assert(
      fc.property(
        anyName.filter(
          (name) => name !== '' && !isMetricName(name) && !/[\uD800-\uDFFF]/u.test(name.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, '')),
        ),
        (name) => {
          expect(unescapeValues(escapeName(name, 'values'))).toBe(name);
        },
      ),
    );
  });

  it('writes a lone surrogate as _FFFD_ (no code point a Go string can hold)', () => {
    expect(escapeName('a\uD800', 'values')).toBe('U__a_FFFD_');
  });
});

describe('escapeFamilies', () => {
  it('escapes the family, keeps suffixes after the escaped name, and escapes label names', () => {
    const family: MetricFamily = {
      name: 'req.seconds',
      help: 'h',
      type: 'histogram',
      samples: [
        { name: 'req.seconds_bucket', labels: { le: '+Inf', 'http.method': 'GET' }, value: 1 },
        { name: 'req.seconds_sum', labels: { 'http.method': 'GET' }, value: 2 },
        { name: 'req.seconds_count', labels: { 'http.method': 'GET' }, value: 1 },
      ],
    };
    const [escaped] = escapeFamilies([family], 'values');
    expect(escaped?.name).toBe('U__req_2e_seconds');
    expect(escaped?.samples.map((sample) => [sample.name, Object.keys(sample.labels)])).toEqual([
      ['U__req_2e_seconds_bucket', ['le', 'U__http_2e_method']],
      ['U__req_2e_seconds_sum', ['U__http_2e_method']],
      ['U__req_2e_seconds_count', ['U__http_2e_method']],
    ]);
  });

  it('returns a legacy family as it is', () => {
    const family: MetricFamily = { name: 'up', help: undefined, type: 'gauge', samples: [{ name: 'up', labels: { a: 'b' }, value: 1 }] };
    expect(escapeFamilies([family], 'dots')[0]).toBe(family);
  });
});

/** The escaper over `text`, fed in chunks of `size` bytes. */
async function escaped(text: string, scheme: NameEscaping, size = 5): Promise<string> {
  const bytes = Buffer.from(text);
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  }
  const out: Uint8Array[] = [];
  for await (const chunk of new NameEscaper(scheme).convert(chunks())) out.push(chunk);
  return Buffer.concat(out).toString();
}

// What client_golang 1.24 writes for a non-legacy histogram and a gauge with a non-legacy label.
const QUOTED = [
  '# HELP "http.server.duration" Duration of "requests".',
  '# TYPE "http.server.duration" histogram',
  '{"http.server.duration_bucket","http.method"="GET",le="0.5"} 1',
  '{"http.server.duration_bucket","http.method"="GET",le="+Inf"} 2',
  '{"http.server.duration_sum","http.method"="GET"} 0.75',
  '{"http.server.duration_count","http.method"="GET"} 2',
  '# TYPE queue_depth gauge',
  'queue_depth{"queue.name"="a b"} 4',
  '',
].join('\n');

describe('NameEscaper', () => {
  it.each([1, 3, 64])('turns quoted names into legacy ones, lines kept one for one (chunks of %i bytes)', async (size) => {
    const out = await escaped(QUOTED, 'underscores', size);
    expect(out.split('\n')).toEqual([
      '# HELP http_server_duration Duration of "requests".',
      '# TYPE http_server_duration histogram',
      'http_server_duration_bucket{http_method="GET",le="0.5"} 1',
      'http_server_duration_bucket{http_method="GET",le="+Inf"} 2',
      'http_server_duration_sum{http_method="GET"} 0.75',
      'http_server_duration_count{http_method="GET"} 2',
      '# TYPE queue_depth gauge',
      'queue_depth{queue_name="a b"} 4',
      '',
    ]);
  });

  it('keeps the suffix of a histogram sample after the escaped family name (dots, values)', async () => {
    expect(await escaped(QUOTED, 'dots')).toContain('http_dot_server_dot_duration_bucket{http_dot_method="GET",le="0.5"} 1');
    expect(await escaped(QUOTED, 'values')).toContain('U__http_2e_server_2e_duration_count{U__http_2e_method="GET"} 2');
  });

  it('gives the one grammar a file every node_exporter version reads', async () => {
    for (const scheme of NAME_ESCAPINGS) {
      const families = parseExposition(await escaped(QUOTED, scheme));
      expect(families.map((family) => [family.type, family.samples.length])).toEqual([
        ['histogram', 4],
        ['gauge', 1],
      ]);
      for (const family of families) for (const sample of family.samples) expect(Object.keys(sample.labels).every(isLabelName)).toBe(true);
    }
  });

  it('unquotes a quoted legacy name, which node_exporter 1.5 refuses', async () => {
    expect(await escaped('{"up"} 1\n"down"{a="b"} 0\n', 'values')).toBe('up 1\ndown{a="b"} 0\n');
  });

  it('hands on unchanged what it cannot read, for the grammar to word', async () => {
    for (const line of ['{"a.b" 1', 'm{"x"=} 1', '{"a"}1', '# TYPE "a.b"x gauge', 'm{a="\\q"} 1', 'no quotes here 1']) {
      expect(await escaped(`${line}\n`, 'underscores')).toBe(`${line}\n`);
    }
  });

  it('keeps a missing final newline missing (the grammar says the input was cut off)', async () => {
    expect(await escaped('{"a.b"} 1', 'underscores')).toBe('a_b 1');
  });

  it('leaves invalid UTF-8 bytes as they came', async () => {
    const bytes = Buffer.concat([Buffer.from('{"a.b",x="'), Buffer.from([0xff]), Buffer.from('"} 1\n')]);
    const out: Uint8Array[] = [];
    async function* one(): AsyncGenerator<Uint8Array> {
      yield bytes;
    }
    for await (const chunk of new NameEscaper('underscores').convert(one())) out.push(chunk);
    expect(Buffer.concat(out)).toEqual(bytes);
  });

  it('without it, the grammar refuses quoted names under the 1.5 profile and non-legacy ones under every profile', () => {
    const legacy = profileForVersion('1.5');
    expect(() => parseExposition('{"up"} 1\n', legacy ? { profile: legacy } : {})).toThrow(/quoted/);
    expect(() => parseExposition(QUOTED)).toThrow(/quoted/);
  });
});

/** A name quoted as client_golang writes it: `\\`, `\"` and `\n` escaped. */
const quoted = (name: string): string => `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

describe('NameEscaper and escapeFamilies agree', () => {
  it('a quoted family, label and histogram suffix come out as escapeNonLegacy makes them, in any chunking', async () => {
    const name = anyName.filter((candidate) => candidate !== '' && !candidate.includes('\u0000'));
    await fc.assert(
      fc.asyncProperty(
        name,
        name,
        fc.constantFrom(...NAME_ESCAPINGS),
        fc.integer({ min: 1, max: 40 }),
        async (metric, label, scheme, size) => {
          const text = [
            `# HELP ${quoted(metric)} Help.`,
            `# TYPE ${quoted(metric)} histogram`,
            `{${quoted(`${metric}_bucket`)},${quoted(label)}="v",le="+Inf"} 1`,
            `{${quoted(`${metric}_sum`)},${quoted(label)}="v"} 1`,
            `{${quoted(`${metric}_count`)},${quoted(label)}="v"} 1`,
            '',
          ].join('\n');
          const family: MetricFamily = {
            name: metric,
            help: 'Help.',
            type: 'histogram',
            samples: ['_bucket', '_sum', '_count'].map((suffix) => ({
              name: metric + suffix,
              labels: suffix === '_bucket' ? { [label]: 'v', le: '+Inf' } : { [label]: 'v' },
              value: 1,
            })),
          };
          const [expected] = escapeFamilies([family], scheme);
          const out = await escaped(text, scheme, size);
          expect(out.split('\n').length).toBe(text.split('\n').length);
          const names = /^# TYPE (\S+) histogram$/m.exec(out)?.[1];
          expect(names).toBe(expected?.name);
          for (const sample of expected?.samples ?? []) {
            const labelName = Object.keys(sample.labels)[0] as string;
            expect(out).toContain(`${sample.name}{${labelName}="v"`);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
