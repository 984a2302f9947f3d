// Property-based tests (fast-check): generated valid families round-trip
// through render and parse and are accepted by the real node_exporter;
// random and mutated input never crashes the parser (only ExpositionError),
// and whatever promfile accepts and writes, node_exporter accepts too.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ExpositionError, messageOf } from '../../src/errors.js';
import { parseExposition, readExposition } from '../../src/format/parse.js';
import { renderExposition } from '../../src/format/render.js';
import type { Labels, MetricFamily, Sample } from '../../src/format/types.js';
import { seriesKey } from '../../src/format/validate.js';
import { writeTextfile } from '../../src/textfile/write.js';

import { samplesOf, scrapeError, useNodeExporter, type NodeExporter } from '../helpers/node-exporter.js';

/** Inputs tried per property; PROMFILE_PROPERTY_RUNS raises it for a long soak. */
const RUNS = Number(process.env['PROMFILE_PROPERTY_RUNS'] ?? 300);

const nameChars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_';
const metricName = fc
  .tuple(fc.constantFrom(...`${nameChars}:`), fc.string({ unit: fc.constantFrom(...`${nameChars}:0123456789`), maxLength: 12 }))
  .map(([first, rest]) => first + rest);
const labelName = fc
  .tuple(fc.constantFrom(...nameChars), fc.string({ unit: fc.constantFrom(...`${nameChars}0123456789`), maxLength: 8 }))
  .map(([first, rest]) => first + rest)
  .filter((name) => !name.startsWith('__'));
/** Label values and HELP: any Unicode, plus the characters that need escaping or confuse parsers. */
const text = fc
  .array(
    fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 6 }),
      fc.constantFrom('\\', '"', '\n', '{', '}', ',', '=', ' ', '#', '\t', 'NaN', '\\n', 'é', '日本', '\u{1F600}'),
    ),
    { maxLength: 6 },
  )
  .map((parts) => parts.join(''))
  .filter((value) => !value.includes('\u0000'));
/** HELP: the format cannot carry leading blanks, a trailing CR, or NUL. */
const helpText = text.filter((help) => help !== '' && !/^[ \t]/.test(help) && !help.endsWith('\r'));
const value = fc.oneof(fc.double(), fc.integer().map(Number), fc.constantFrom(0, -0, 1e-300, 1.7976931348623157e308, Number.MIN_VALUE));
const labels: fc.Arbitrary<Labels> = fc.dictionary(labelName, text, { maxKeys: 4 });

/** A counter, gauge or untyped family; series identities are unique as node_exporter sees them. */
const simpleFamily = (name: string): fc.Arbitrary<MetricFamily> =>
  fc
    .record({
      type: fc.constantFrom('counter' as const, 'gauge' as const, 'untyped' as const),
      help: fc.option(helpText, { nil: undefined }),
      series: fc.array(fc.tuple(labels, value), { minLength: 1, maxLength: 5 }),
    })
    .map(({ type, help, series }) => {
      const seen = new Set<string>();
      const samples: Sample[] = [];
      for (const [sampleLabels, sampleValue] of series) {
        const key = seriesKey(name, sampleLabels);
        if (seen.has(key)) continue;
        seen.add(key);
        // Counters cannot go below zero (promfile refuses it; NaN is allowed).
        samples.push({ name, labels: sampleLabels, value: type === 'counter' && sampleValue < 0 ? -sampleValue : sampleValue });
      }
      return { name, help, type, samples };
    });

/** A histogram with cumulative buckets ending in +Inf, _sum and _count. */
const histogramFamily = (name: string): fc.Arbitrary<MetricFamily> =>
  fc
    .record({
      help: fc.option(helpText, { nil: undefined }),
      bounds: fc.uniqueArray(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 4, comparator: (a, b) => a === b }),
      increments: fc.array(fc.nat(1000), { minLength: 5, maxLength: 5 }),
      sum: fc.double({ noNaN: true }),
      extra: labels.map((l) => Object.fromEntries(Object.entries(l).filter(([k]) => k !== 'le'))),
    })
    .map(({ help, bounds, increments, sum, extra }) => {
      const sorted = [...bounds].sort((a, b) => a - b).filter((b) => !Object.is(b, -0));
      let count = 0;
      const samples: Sample[] = [...sorted, Infinity].map((bound, i) => {
        count += increments[i] ?? 0;
        return { name: `${name}_bucket`, labels: { ...extra, le: bound === Infinity ? '+Inf' : String(bound) }, value: count };
      });
      samples.push({ name: `${name}_sum`, labels: extra, value: sum }, { name: `${name}_count`, labels: extra, value: count });
      return { name, help, type: 'histogram' as const, samples };
    });

/** A file: families with distinct names that cannot collide with a histogram's suffixes. */
const families = (prefix = ''): fc.Arbitrary<MetricFamily[]> =>
  fc
    .uniqueArray(metricName, { minLength: 1, maxLength: 6 })
    .map((names) => names.map((name) => `${prefix}${name}`).filter((name) => !/_(bucket|sum|count)$/.test(name)))
    .filter((names) => names.length > 0)
    .chain((names) =>
      fc.tuple(...names.map((name, i) => (i === 0 ? fc.oneof(simpleFamily(name), histogramFamily(name)) : simpleFamily(name)))),
    )
    .filter((list) => {
      const names = new Set(list.map((f) => f.name));
      return !list.some((f) => f.type === 'histogram' && ['_bucket', '_sum', '_count'].some((s) => names.has(f.name + s)));
    });

/** What the parser gives back for a model: families by name, histogram series in canonical order. */
function canonical(list: readonly MetricFamily[]): MetricFamily[] {
  return parseExposition(renderExposition(list));
}

describe('property: valid families', () => {
  it(`round-trip through renderExposition and parseExposition (${RUNS} files)`, () => {
    fc.assert(
      fc.property(families(), (list) => {
        const rendered = renderExposition(list);
        const parsed = parseExposition(rendered);
        const byName = [...list].sort((a, b) => (a.name < b.name ? -1 : 1));
        expect(parsed.map((f) => [f.name, f.type, f.help])).toEqual(byName.map((f) => [f.name, f.type, f.help]));
        for (const [i, family] of byName.entries()) {
          const got = parsed[i] as MetricFamily;
          // Same series with the same values (histogram series may be reordered canonically).
          const index = (samples: readonly Sample[]) => new Map(samples.map((s) => [seriesKey(s.name, s.labels), s]));
          const want = index(family.samples);
          expect(got.samples).toHaveLength(family.samples.length);
          for (const sample of got.samples) {
            const original = want.get(seriesKey(sample.name, sample.labels));
            expect(original, JSON.stringify(sample)).toBeDefined();
            expect(Object.is(sample.value, original?.value) || (Number.isNaN(sample.value) && Number.isNaN(original?.value))).toBe(true);
            expect(sample.labels).toEqual(original?.labels);
          }
        }
        // Canonical output is a fixed point.
        expect(renderExposition(parsed)).toBe(rendered);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('property: random and mutated input', () => {
  const special = fc.constantFrom(
    '\n',
    '\r',
    '"',
    '\\',
    '{',
    '}',
    '=',
    ',',
    ' ',
    '\t',
    '#',
    '\u0000',
    'e',
    '+',
    '-',
    '.',
    '_',
    'é',
    '\uFEFF',
    '\uD800',
    ' 1',
    '# TYPE ',
    '# HELP ',
    'le="+Inf"',
    '_bucket',
    '_total',
  );
  const mutation = fc.record({
    at: fc.nat(),
    op: fc.constantFrom('insert', 'delete', 'replace'),
    with: fc.oneof(special, fc.string({ maxLength: 3 })),
  });
  const mutated = families().chain((list) =>
    fc.array(mutation, { minLength: 1, maxLength: 4 }).map((edits) => {
      let out = renderExposition(list);
      for (const edit of edits) {
        const at = out.length === 0 ? 0 : edit.at % out.length;
        if (edit.op === 'insert') out = out.slice(0, at) + edit.with + out.slice(at);
        else if (edit.op === 'delete') out = out.slice(0, at) + out.slice(at + 1 + (edit.at % 7));
        else out = out.slice(0, at) + edit.with + out.slice(at + edit.with.length);
      }
      return out;
    }),
  );

  function neverCrashes(input: string | Uint8Array): void {
    expect(() => readExposition(input)).not.toThrow();
    expect(() => readExposition(input, { stripTimestamps: true, allowMissingFinalNewline: true })).not.toThrow();
    try {
      parseExposition(input);
    } catch (error) {
      expect(error).toBeInstanceOf(ExpositionError);
      expect(messageOf(error)).toMatch(/^line \d+: /);
    }
  }

  function oneLineErrors(input: string): void {
    try {
      parseExposition(input);
    } catch (error) {
      expect(messageOf(error)).not.toContain('\n');
    }
  }

  // Messages quote unescaped label values; an escaped \n in one once split
  // the one-line error. PromfileError now escapes control characters.
  // Fixed seed: deterministic.
  it('every parse error is one line', () => {
    fc.assert(fc.property(mutated, oneLineErrors), { numRuns: 5000, seed: 936129703 });
  });
  it('the "unescaped new-line" error stays on one line', () => oneLineErrors('m{a="x\\ny\n"} 1\n'));
  it('the "float as value for le" error stays on one line', () => oneLineErrors('# TYPE h histogram\nh_bucket{le="+I\\nf"} 1\n'));

  it(`mutated valid files never crash the parser (${RUNS * 3} inputs)`, () => {
    fc.assert(fc.property(mutated, neverCrashes), { numRuns: RUNS * 3 });
  });

  it(`random text and random bytes never crash the parser (${RUNS * 2} inputs)`, () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), neverCrashes), { numRuns: RUNS });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), neverCrashes), { numRuns: RUNS });
  });
});

describe('property: node_exporter accepts what promfile writes', () => {
  const suite = useNodeExporter('promfile-property-');
  let dir: string;
  let exporter: NodeExporter;
  beforeAll(() => ({ dir, exporter } = suite));

  it('a sample of generated files: every series exposed, node_textfile_scrape_error 0', async () => {
    // One file per case, names prefixed per file so files never conflict with each other.
    const cases = fc.sample(
      fc.nat().chain((n) => families(`p${n}_`)),
      { numRuns: 40, seed: 4242 },
    );
    const written = new Map<string, MetricFamily[]>();
    for (const [i, list] of cases.entries()) {
      const unique = list.map((family) => ({
        ...family,
        name: `f${i}_${family.name}`,
        samples: family.samples.map((s) => ({ ...s, name: `f${i}_${s.name}` })),
      }));
      await writeTextfile(dir, unique, { name: `case-${i}` });
      written.set(`case-${i}`, canonical(unique));
    }
    const scrape = await exporter.scrape();
    expect(scrapeError(scrape)).toBe(0);
    for (const list of written.values()) {
      for (const family of list) {
        const names = new Set(family.samples.map((s) => s.name));
        const exposed = [...names].flatMap((name) => samplesOf(scrape, name));
        expect(exposed, family.name).toHaveLength(family.samples.length);
      }
    }
  });

  it('mutated files that promfile accepts are accepted by node_exporter', async () => {
    const mutatedInputs = fc.sample(
      families('mut_').chain((list) =>
        fc.tuple(fc.nat(), fc.constantFrom(' ', '\n', '\t', '# x\n', '\n\n', '0', '.5', 'e1', ',')).map(([at, insert]) => {
          const base = renderExposition(list);
          const pos = at % (base.length + 1);
          return base.slice(0, pos) + insert + base.slice(pos);
        }),
      ),
      { numRuns: 400, seed: 777 },
    );
    let accepted = 0;
    for (const input of mutatedInputs) {
      let parsed: MetricFamily[];
      try {
        parsed = parseExposition(input, { allowMissingFinalNewline: true });
      } catch (error) {
        expect(error).toBeInstanceOf(ExpositionError);
        continue;
      }
      if (parsed.length === 0) continue;
      accepted++;
      await writeTextfile(dir, parsed, { name: 'mutated' });
      const scrape = await exporter.scrape();
      expect(scrapeError(scrape), `${JSON.stringify(input)}\n-> ${readFileSync(join(dir, 'mutated.prom'), 'utf8')}`).toBe(0);
      if (accepted >= 60) break;
    }
    console.info(`property: ${accepted} mutated files accepted by promfile, all accepted by node_exporter`);
    expect(accepted).toBeGreaterThan(10);
  });
});
