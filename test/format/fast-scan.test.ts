// The byte-level fast path must agree with the strict parser: the same
// output bytes, the same notices, the same first error (rule, line, message),
// whatever the input and however it is cut into chunks. Checked on generated
// documents (fast-check) and on other projects' parser test inputs.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { ExpositionError } from '../../src/errors.js';
import { FastScanner, scanChunks, type ScanMode } from '../../src/format/fast-scan.js';
import { isValidValue } from '../../src/format/number.js';
import { parseGoFloat } from '../../src/format/number.js';
import { parseExposition, type ReadOptions } from '../../src/format/parse.js';
import { renderExposition } from '../../src/format/render.js';
import type { Problem } from '../../src/format/types.js';
import { canonicalDocument, documentText, PEERS } from '../helpers/exposition-cases.js';

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

function cutsFor(length: number): fc.Arbitrary<number[]> {
  return fc.array(fc.nat(Math.max(0, length)), { maxLength: 6 });
}

/** The fast path agrees with the strict parser wherever it decides, however the input is cut: how many it decided. */
function agreement(documents: fc.Arbitrary<Uint8Array>): number {
  let decided = 0;
  fc.assert(
    fc.property(
      documents.chain((bytes) => fc.tuple(fc.constant(bytes), cutsFor(bytes.length), fc.constantFrom(...OPTION_SETS))),
      ([bytes, cuts, options]) => {
        const fast = fastOutcome(bytes, cuts, options);
        if (fast === undefined) return;
        decided++;
        expect(fast).toEqual(strictOutcome(bytes, options));
      },
    ),
    { numRuns: RUNS },
  );
  return decided;
}

describe('fast path and strict parser agree', () => {
  it('on generated documents, cut into chunks anywhere', () => {
    // Most documents are decided without the whole-file parse.
    expect(agreement(documentText.map((text) => Buffer.from(text)))).toBeGreaterThan(RUNS / 2);
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

  it('on invalid UTF-8, by handing the block that holds it to the strict parser, which names the line', () => {
    // node_exporter takes invalid UTF-8 in comments and HELP but not in samples: the strict parser's rule decides, block by block.
    const bytes = Buffer.concat([Buffer.from('a 1\n# HELP b x\nb{x="'), Buffer.from([0xc3, 0x28]), Buffer.from('"} 1\nbad{\n')]);
    for (const size of [1, 3, 64]) {
      const cuts = Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => i * size);
      const result = scanChunks(cuts.map((cut) => bytes.subarray(cut, cut + size)));
      expect(result.wholeFile).toBe(false);
      expect(result.error).toMatchObject({ rule: 'invalid-utf8', line: 3 });
    }
    expect(strictOutcome(bytes, {}).error).toMatchObject({ rule: 'invalid-utf8', line: 3 });
  });

  it('on documents with invalid UTF-8 anywhere, cut into chunks anywhere', () => {
    const bad = fc.constantFrom([0xff], [0xc3, 0x28], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xc0, 0xaf]);
    const documents = documentText
      .chain((text) => fc.tuple(fc.constant(Buffer.from(text)), fc.nat(Buffer.byteLength(text)), bad))
      .map(([good, at, invalid]) => Buffer.concat([good.subarray(0, at), Buffer.from(invalid), good.subarray(at)]));
    // Invalid UTF-8 no longer sends the whole input to the strict parser.
    expect(agreement(documents)).toBeGreaterThan(RUNS / 2);
  });

  it('asks for the whole-file parse when a family resumes, and the strict parser regroups it', () => {
    const bytes = Buffer.from('a 1\nb 2\na{x="1"} 3\n');
    expect(scanChunks([bytes]).wholeFile).toBe(true);
    expect(strictOutcome(bytes, {}).output).toBe('# TYPE a untyped\na 1\na{x="1"} 3\n# TYPE b untyped\nb 2\n');
  });

  it('joins a line that spans many chunks once, so a long line costs linear copying', () => {
    // A 20 MB comment line in 64 KiB pipe reads took 12 s when each chunk was joined onto the line so far.
    const line = Buffer.from(`# ${'c'.repeat(2 * 1024 * 1024)}\n`);
    const bytes = Buffer.concat([line, Buffer.from('after_comment 3\n')]);
    const size = 4096;
    const chunks = Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
    const concat = vi.spyOn(Buffer, 'concat');
    const result = scanChunks(chunks);
    const copied = concat.mock.results.reduce((sum, call) => sum + (call.value as Buffer).length, 0);
    concat.mockRestore();
    expect(result.error).toBeUndefined();
    expect(Buffer.from(result.output).toString()).toBe('# TYPE after_comment untyped\nafter_comment 3\n');
    expect(copied).toBeLessThan(3 * bytes.length);
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
    const long = [
      '23.456000000000003',
      '0.10000000000000001',
      '1000000000000000000000',
      '-0.0',
      '00012.500000000000000001',
      '1' + '0'.repeat(308),
    ];
    const longText = `# TYPE l gauge\n${long.map((value, i) => `l{i="${i}"} ${value}`).join('\n')}\n`;
    expect(fastOutcome(Buffer.from(longText), [], {})).toEqual(strictOutcome(Buffer.from(longText), {}));
    expect(fastOutcome(Buffer.from(longText), [], {})?.output).toContain('l{i="1"} 0.1\nl{i="2"} 1e+21\nl{i="3"} -0\n');
    const outOfRange = `# TYPE o gauge\no 1${'0'.repeat(309)}\n`;
    expect(fastOutcome(Buffer.from(outOfRange), [], {})).toEqual(strictOutcome(Buffer.from(outOfRange), {}));
    expect(strictOutcome(Buffer.from(outOfRange), {}).error).toMatchObject({ rule: 'value', line: 2 });
    const valid = '# TYPE a gauge\na{y="2",x="1"} 1.50\n';
    expect(fastOutcome(Buffer.from(valid), [], {})?.output).toBe('# TYPE a gauge\na{y="2",x="1"} 1.5\n');
  });
});

/** Everything a scan reports but the output: the verdict, and each block's lines and bytes as onBlock sees them. */
function scanReport(bytes: Uint8Array, size: number, options: ReadOptions, mode: ScanMode): unknown {
  const blocks: unknown[] = [];
  const scanner = new FastScanner(
    options,
    (block) =>
      blocks.push({
        name: block.name,
        line: block.line,
        series: block.series,
        type: block.type,
        parsed: block.parsed,
        raw: Buffer.concat(block.raw).toString('latin1'),
      }),
    mode,
  );
  // With reusedChunks, every chunk is read into the same buffer, as readRegularFileChunks does, and spoilt after use.
  const reused = Buffer.alloc(size);
  for (let at = 0; at < bytes.length; at += size) {
    const piece = bytes.subarray(at, at + size);
    reused.set(piece);
    const chunk = mode.reusedChunks === true ? reused.subarray(0, piece.length) : piece;
    const more = scanner.push(chunk);
    reused.fill(0x7b);
    if (!more) break;
  }
  const { error, notices, wholeFile, families, series, strictBlocks } = scanner.end();
  return { error, notices, wholeFile, families, series, strictBlocks, blocks };
}

describe('fast path for check: no output, one reused buffer', () => {
  const CHECK: ScanMode = { reusedChunks: true, checkOnly: true };

  it('reports what the copying scan reports, however the input is cut', () => {
    fc.assert(
      fc.property(documentText, fc.integer({ min: 1, max: 64 }), fc.constantFrom(...OPTION_SETS), (text, size, options) => {
        const bytes = Buffer.from(text);
        const whole = scanReport(bytes, bytes.length + 1, options, {});
        expect(scanReport(bytes, size, options, CHECK)).toEqual(whole);
        expect(scanReport(bytes, size, options, { reusedChunks: true })).toEqual(whole);
      }),
      { numRuns: RUNS },
    );
  });

  it('keeps no output and respells no value', () => {
    const outputs: number[] = [];
    const scanner = new FastScanner({}, (block) => outputs.push(block.output.length), CHECK);
    scanner.push(Buffer.from('# TYPE a gauge\na{x="1"} 1.50\nb 2\n'));
    expect(scanner.end()).toMatchObject({ error: undefined, series: 2, strictBlocks: 0 });
    expect(outputs).toEqual([0, 0]);
  });

  it('copies what it keeps of a reused chunk: a block and a line cut by the end of the chunk', () => {
    const text = '# TYPE a gauge\na{x="1"} 1\na{x="2"} 2\na{x="1"} 3\n';
    // The duplicate on line 4 sends the block to the strict parser, which reads its first lines from the kept copies.
    expect(scanReport(Buffer.from(text), 5, {}, CHECK)).toMatchObject({ error: { rule: 'duplicate-series', line: 4 } });
    expect(scanReport(Buffer.from(text), 5, {}, CHECK)).toEqual(scanReport(Buffer.from(text), text.length, {}, {}));
  });
});

describe('value check of the check-only scan', () => {
  const strictTakes = (text: string, counter: boolean): boolean => {
    const value = parseGoFloat(text);
    return value !== undefined && !(counter && value < 0);
  };
  const digits = (min: number, max: number): fc.Arbitrary<string> =>
    fc.array(fc.constantFrom(...'0123456789'), { minLength: min, maxLength: max, size: 'max' }).map((list) => list.join(''));
  const valueText = fc.oneof(
    fc.double().map(String),
    fc
      .tuple(fc.constantFrom('', '-', '+'), digits(0, 20), fc.constantFrom('', '.', 'e', '.5', 'e-3'), digits(0, 20))
      .map((parts) => parts.join('')),
    // About the float64 range: 308 integer digits are below 1e308, 310 above its largest value.
    fc
      .tuple(fc.constantFrom('', '-'), fc.constantFrom('1', '9'), digits(305, 312), fc.constantFrom('', '.5'))
      .map((parts) => parts.join('')),
    fc.constantFrom('NaN', '+Inf', '-Inf', '1_0', '0x1', '1,5', '-0', '-0.0', '.5', '5.'),
  );

  it('takes a value only where the strict parser does, and every long plain decimal', () => {
    fc.assert(
      fc.property(valueText, fc.boolean(), (text, counter) => {
        const bytes = Buffer.from(text, 'latin1');
        const fast = isValidValue(bytes, 0, bytes.length, counter);
        if (fast) expect(strictTakes(text, counter)).toBe(true);
        if (/^\d{1,308}\.\d+$/.test(text)) expect(fast).toBe(true);
      }),
      { numRuns: RUNS * 5 },
    );
  });
});

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
