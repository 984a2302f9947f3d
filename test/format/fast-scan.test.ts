// The byte-level fast path must agree with the strict parser: the same
// output bytes, the same notices, the same first error (rule, line, message),
// whatever the input and however it is cut into chunks. Checked on generated
// documents (fast-check) and on other projects' parser test inputs.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExpositionError } from '../../src/errors.js';
import { scanChunks } from '../../src/format/fast-scan.js';
import { parseExposition, type ReadOptions } from '../../src/format/parse.js';
import { renderExposition } from '../../src/format/render.js';
import type { Problem } from '../../src/format/types.js';
import { ROOT } from '../helpers/cli.js';

const RUNS = Number(process.env['PROMFILE_PROPERTY_RUNS'] ?? 400);

interface Outcome {
  error?: Problem;
  output?: string;
  notices?: Problem[];
}

function strictOutcome(bytes: Uint8Array, options: ReadOptions): Outcome {
  const notices: Problem[] = [];
  try {
    const families = parseExposition(bytes, { ...options, onNotice: (notice) => notices.push(notice) });
    return { output: renderExposition(families), notices };
  } catch (error) {
    if (!(error instanceof ExpositionError)) throw error;
    return { error: error.problem };
  }
}

/** The fast path's outcome, or undefined when it asks for the whole-file strict parse. */
function fastOutcome(bytes: Uint8Array, cuts: readonly number[], options: ReadOptions): Outcome | undefined {
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    chunks.push(bytes.subarray(start, Math.max(start, cut)));
    start = Math.max(start, cut);
  }
  chunks.push(bytes.subarray(start));
  const result = scanChunks(chunks, options);
  if (result.wholeFile) return undefined;
  if (result.error) return { error: result.error };
  return { output: Buffer.from(result.output).toString('utf8'), notices: [...result.notices] };
}

const OPTION_SETS: readonly ReadOptions[] = [{}, { allowMissingFinalNewline: true, stripTimestamps: true }];

// Lines from small pools, so families repeat, suffixes meet their histograms
// and summaries, and every rule of the strict parser gets its turn.
const names = ['a', 'a_total', 'h', 'h_bucket', 'h_sum', 'h_count', 's', 's_sum', 's_count', 'b:c'];
const labelNames = ['x', 'y', 'le', 'quantile', '__r', 'job', 'z9'];
const labelValues = ['', '1', '0.5', '+Inf', 'v', 'a\\"b', 'a\\\\b', 'l\\nm', 'é日', 'bad\\t', '1.0', 'x y'];
const values = [
  '1',
  '0',
  '-1',
  '1.0',
  '0.5',
  '-0',
  '12345678901234567',
  '1e3',
  '+Inf',
  'NaN',
  '0x1',
  '1_0',
  '',
  '1 123',
  '1\r',
  '0.0000001',
];
const helps = ['Help.', 'with \\\\ and \\n', ' lead', 'bad \\t', 'trail\r', 'x'];
const types = ['counter', 'gauge', 'untyped', 'histogram', 'summary', 'GAUGE', 'bogus'];

const labelSet = fc
  .array(fc.tuple(fc.constantFrom(...labelNames), fc.constantFrom(...labelValues)), { maxLength: 3 })
  .map((pairs) => pairs.map(([k, v]) => `${k}="${v}"`).join(','));
const sampleLine = fc
  .tuple(
    fc.constantFrom(...names),
    fc.option(labelSet, { nil: undefined }),
    fc.constantFrom(' ', '  ', '\t', ''),
    fc.constantFrom(...values),
  )
  .map(([name, labels, space, value]) => `${name}${labels === undefined ? '' : `{${labels}}`}${space}${value}`);
const commentLine = fc.oneof(
  fc.tuple(fc.constantFrom(...names), fc.constantFrom(...helps)).map(([name, help]) => `# HELP ${name} ${help}`),
  fc.tuple(fc.constantFrom(...names), fc.constantFrom(...types)).map(([name, type]) => `# TYPE ${name} ${type}`),
  fc.constantFrom('', '# just a comment', '#HELP a x', '# TYPE  a\tgauge', '  ', '# HELP a', '{x="1"} 1', '\u{feff}a 1', 'a{x="1",} 1'),
);
/** Families as writers emit them: HELP, TYPE, then samples of that name (or its suffixes). */
const familyBlock = fc
  .tuple(
    fc.constantFrom(...names),
    fc.option(fc.constantFrom(...helps), { nil: undefined }),
    fc.option(fc.constantFrom(...types), { nil: undefined }),
    fc.array(
      fc.tuple(fc.constantFrom('', '', '_sum', '_count', '_bucket'), fc.option(labelSet, { nil: undefined }), fc.constantFrom(...values)),
      { maxLength: 5 },
    ),
  )
  .map(([name, help, type, samples]) => [
    ...(help === undefined ? [] : [`# HELP ${name} ${help}`]),
    ...(type === undefined ? [] : [`# TYPE ${name} ${type}`]),
    ...samples.map(([suffix, labels, value]) => `${name}${suffix}${labels === undefined ? '' : `{${labels}}`} ${value}`),
  ]);
/** Nearly valid families: where the fast path decides alone, so where a slip of its own would show. */
const nearlyValidBlock = fc
  .tuple(
    fc.constantFrom('a', 'b_total', 'c:d'),
    fc.constantFrom('counter', 'gauge', 'untyped', undefined),
    fc.array(
      fc.tuple(
        fc.uniqueArray(fc.tuple(fc.constantFrom('x', 'y', 'job'), fc.constantFrom('', '1', 'v', 'a\\"b', 'a\\nb')), {
          maxLength: 3,
          selector: ([key]) => key,
        }),
        fc.constantFrom('1', '-1', '0', '-0', '2.50', '0.25', '-0.5', '1e3', 'NaN', '+Inf', '-Inf', '123456789012345678', '0.0000001'),
      ),
      { minLength: 1, maxLength: 6 },
    ),
  )
  .map(([name, type, samples]) => [
    `# HELP ${name} Help \\\\ of ${name}.`,
    ...(type === undefined ? [] : [`# TYPE ${name} ${type}`]),
    ...samples.map(
      ([pairs, value]) => `${name}${pairs.length === 0 ? '' : `{${pairs.map(([k, v]) => `${k}="${v}"`).join(',')}}`} ${value}`,
    ),
  ]);
const line = fc.oneof({ weight: 3, arbitrary: sampleLine }, { weight: 1, arbitrary: commentLine });
const lines = fc.oneof(
  fc.tuple(fc.array(line, { maxLength: 14 }), fc.boolean()),
  fc.tuple(
    fc.array(familyBlock, { maxLength: 4 }).map((blocks) => blocks.flat()),
    fc.boolean(),
  ),
  fc.tuple(
    fc.uniqueArray(nearlyValidBlock, { maxLength: 3, selector: (block) => block[0] }).map((blocks) => blocks.flat()),
    fc.constant(true),
  ),
);
const documentText = lines.map(([list, finalNewline]) => list.join('\n') + (finalNewline && list.length > 0 ? '\n' : ''));

/** Canonical documents: the fast path must take them without help. */
const canonicalDocument = fc
  .uniqueArray(fc.constantFrom('a', 'b_total', 'c', 'd:e'), { minLength: 1, maxLength: 4 })
  .chain((families) =>
    fc.tuple(
      ...families.map((name) =>
        fc
          .uniqueArray(fc.tuple(fc.constantFrom('1', '2', 'v'), fc.constantFrom('0', '1', '2.5', '100')), {
            minLength: 1,
            maxLength: 5,
            selector: ([instance]) => instance,
          })
          .map((series) => {
            const type = name.endsWith('_total') ? 'counter' : 'gauge';
            const lines = series.map(([instance, value]) => `${name}{instance="${instance}",job="j"} ${value}\n`);
            return `# HELP ${name} Help of ${name}.\n# TYPE ${name} ${type}\n${lines.join('')}`;
          }),
      ),
    ),
  )
  .map((parts) => parts.join(''));

function cutsFor(length: number): fc.Arbitrary<number[]> {
  return fc.array(fc.nat(Math.max(0, length)), { maxLength: 6 });
}

describe('fast path and strict parser agree', () => {
  it('on generated documents, cut into chunks anywhere', () => {
    let decided = 0;
    fc.assert(
      fc.property(
        documentText.chain((text) => fc.tuple(fc.constant(text), cutsFor(Buffer.byteLength(text)), fc.constantFrom(...OPTION_SETS))),
        ([text, cuts, options]) => {
          const bytes = Buffer.from(text);
          const fast = fastOutcome(bytes, cuts, options);
          if (fast === undefined) return;
          decided++;
          expect(fast).toEqual(strictOutcome(bytes, options));
        },
      ),
      { numRuns: RUNS },
    );
    // Most documents are decided without the whole-file parse.
    expect(decided).toBeGreaterThan(RUNS / 2);
  });

  it('on canonical documents, which it copies without the strict parser', () => {
    fc.assert(
      fc.property(
        canonicalDocument.chain((text) => fc.tuple(fc.constant(text), cutsFor(text.length))),
        ([text, cuts]) => {
          const bytes = Buffer.from(text);
          const chunks = [bytes.subarray(0, cuts[0] ?? 0), bytes.subarray(cuts[0] ?? 0)];
          const result = scanChunks(chunks, {});
          expect(result.strictBlocks).toBe(0);
          expect(result.wholeFile).toBe(false);
          const fast = fastOutcome(bytes, cuts, {});
          expect(fast).toEqual(strictOutcome(bytes, {}));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('on invalid UTF-8, by leaving it to the strict parser, which names the line', () => {
    // node_exporter takes invalid UTF-8 in comments and HELP but not in samples: only the strict parser decides.
    const bytes = Buffer.concat([Buffer.from('a 1\n# HELP b x\nb{x="'), Buffer.from([0xc3, 0x28]), Buffer.from('"} 1\n{bad\n')]);
    for (const size of [1, 3, 64]) {
      const cuts = Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => i * size);
      expect(scanChunks(cuts.map((cut) => bytes.subarray(cut, cut + size))).wholeFile).toBe(true);
    }
    expect(strictOutcome(bytes, {}).error).toMatchObject({ rule: 'invalid-utf8', line: 3 });
  });

  it('asks for the whole-file parse when a family resumes, and the strict parser regroups it', () => {
    const bytes = Buffer.from('a 1\nb 2\na{x="1"} 3\n');
    expect(scanChunks([bytes]).wholeFile).toBe(true);
    expect(strictOutcome(bytes, {}).output).toBe('# TYPE a untyped\na 1\na{x="1"} 3\n# TYPE b untyped\nb 2\n');
  });

  it('finds a repeated series without labels (an empty key) and one with labels in another order', () => {
    for (const text of ['a 1\na 1\n', 'a{x="1",y=""} 1\na{x="1"} 2\n', 'a{x="1",y="2"} 1\na{y="2",x="1"} 2\n']) {
      expect(fastOutcome(Buffer.from(text), [], {})?.error).toMatchObject({ rule: 'duplicate-series', line: 2 });
    }
  });

  it('rewrites what is valid but not canonical, and reports a late error by its line', () => {
    const text = '# TYPE a gauge\na{y="2",x="1"} 1.50\na 0x\n';
    expect(fastOutcome(Buffer.from(text), [], {})).toEqual(strictOutcome(Buffer.from(text), {}));
    expect(strictOutcome(Buffer.from(text), {}).error).toMatchObject({ line: 3, rule: 'value' });
    const valid = '# TYPE a gauge\na{y="2",x="1"} 1.50\n';
    expect(fastOutcome(Buffer.from(valid), [], {})?.output).toBe('# TYPE a gauge\na{y="2",x="1"} 1.5\n');
  });
});

/** The peer corpus lives beside the checkout (../shared), or beside the worktrees' parent. */
const PEERS =
  process.env['PROMFILE_PEER_CASES'] ??
  [join(ROOT, '..', 'shared', 'peer-cases'), join(ROOT, '..', '..', 'shared', 'peer-cases')].find((path) => existsSync(path)) ??
  join(ROOT, '..', 'shared', 'peer-cases');

describe.skipIf(!existsSync(PEERS) && process.env['CI'] !== 'true')('fast path on the peer corpus', () => {
  it('agrees with the strict parser on every case, whole and cut into small chunks', () => {
    let compared = 0;
    for (const dir of readdirSync(PEERS)) {
      const path = join(PEERS, dir);
      if (!existsSync(join(path, 'CASE'))) continue;
      for (const file of readdirSync(path).filter((name) => name.endsWith('.prom'))) {
        const bytes = readFileSync(join(path, file));
        for (const options of OPTION_SETS) {
          const strict = strictOutcome(bytes, options);
          for (const size of [bytes.length, 7, 1]) {
            const cuts = Array.from({ length: Math.ceil(bytes.length / Math.max(1, size)) }, (_, i) => i * size);
            const fast = fastOutcome(bytes, cuts, options);
            if (fast === undefined) continue;
            compared++;
            expect({ case: dir, file, size, ...fast }).toEqual({ case: dir, file, size, ...strict });
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(1000);
  });
});
