// A change that names the families it touches (set, inc, unset, observe)
// checks the existing file on bytes and parses only those families. It must
// decide exactly as the strict path does: the same bytes written, the same
// warnings, the same refusal (class, code, message) with the old file kept,
// per node_exporter profile and with other files in the directory.
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PromfileError } from '../../src/errors.js';
import { relatedNames, scanFile, splitFile } from '../../src/format/fast-file.js';
import { observeHistogram } from '../../src/format/histogram.js';
import { getSeries, removeFamilies, setSeries, unsetSeries } from '../../src/format/model.js';
import { renderSample } from '../../src/format/render.js';
import { ALL_VERSIONS, profileForVersion, type Profile } from '../../src/format/profile.js';
import type { Labels, MetricFamily, MetricType } from '../../src/format/types.js';
import type { Neighbours } from '../../src/textfile/neighbours.js';
import { updateTextfile, type UpdateOptions } from '../../src/textfile/update.js';
import { tempDir } from '../helpers/cli.js';
import { canonicalDocument, documentText, HAVE_PEERS, names, nearlyValidBlock, peerFiles } from '../helpers/exposition-cases.js';

const RUNS = Number(process.env['PROMFILE_PROPERTY_RUNS'] ?? 400);

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(async () => cleanup?.());

interface Op {
  readonly kind: 'set' | 'inc' | 'unset' | 'remove' | 'observe';
  readonly name: string;
  readonly labels: Labels;
  readonly value: number;
  readonly type: MetricType | undefined;
  readonly help: string | undefined;
}

type Change = (current: MetricFamily[], neighbours: Neighbours) => MetricFamily[];

/** The change each command makes, as the commands write it. */
function changeOf(op: Op): Change {
  const typed = { ...(op.type ? { type: op.type } : {}), ...(op.help === undefined ? {} : { help: op.help }) };
  switch (op.kind) {
    case 'set':
      return (current, neighbours) =>
        setSeries(current, [{ name: op.name, labels: op.labels, value: op.value }], { ...typed, helpFor: (n) => neighbours.helpOf(n) });
    case 'inc':
      return (current, neighbours) => {
        const value = (getSeries(current, op.name, op.labels)?.value ?? 0) + Math.abs(op.value);
        return setSeries(current, [{ name: op.name, labels: op.labels, value }], {
          ...typed,
          type: 'counter',
          helpFor: (n) => neighbours.helpOf(n),
        });
      };
    case 'unset':
      return (current) => unsetSeries(current, [{ name: op.name, labels: op.labels }]).families;
    case 'remove':
      return (current) => removeFamilies(current, [op.name]).families;
    case 'observe':
      return (current) =>
        observeHistogram(current, {
          name: op.name,
          labels: op.labels,
          value: op.value,
          ...(op.help === undefined ? {} : { help: op.help }),
        }).families;
  }
}

type Outcome =
  | { error: { kind: string; code: string; message: string }; file: string | undefined; entries: string[] }
  | { content: string | undefined; warnings: unknown; families: MetricFamily[]; file: string | undefined; entries: string[] };

/** Run the change on `existing` (with `neighbour` beside it), by the strict path or the scan, and record all it did. */
async function run(
  existing: string | undefined,
  neighbour: { name: string; text: string } | undefined,
  op: Op,
  options: UpdateOptions,
  byScan: boolean,
): Promise<Outcome> {
  for (const name of await readdir(dir)) await rm(join(dir, name), { force: true });
  const path = join(dir, 'target.prom');
  if (existing !== undefined) await writeFile(path, existing);
  if (neighbour) await writeFile(join(dir, neighbour.name), neighbour.text);
  const state = async (): Promise<{ file: string | undefined; entries: string[] }> => ({
    file: existsSync(path) ? await readFile(path, 'utf8') : undefined,
    entries: (await readdir(dir)).filter((name) => !name.startsWith('.')).sort(),
  });
  try {
    const result = await updateTextfile(path, changeOf(op), { ...options, ...(byScan ? { touches: [op.name] } : {}) });
    return { content: result.content, warnings: result.warnings, families: inWrittenOrder(result.families), ...(await state()) };
  } catch (error) {
    if (!(error instanceof PromfileError)) throw error;
    return { error: { kind: error.constructor.name, code: error.code, message: error.message }, ...(await state()) };
  }
}

/** Families as a reader of the file sees them: samples in the order they are written (by scan, they are read back). */
function inWrittenOrder(families: readonly MetricFamily[]): MetricFamily[] {
  const key = (sample: MetricFamily['samples'][number]): string => renderSample(sample);
  return families.map((family) => ({
    ...family,
    samples: [...family.samples].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)),
  }));
}

const opNames = [...names, 'b_total', 'c', 'd:e', 'new_one', 'node_cpu', 'go_goroutines'];
const op: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom('set', 'set', 'inc', 'unset', 'remove', 'observe'),
  name: fc.constantFrom(...opNames),
  labels: fc
    .uniqueArray(fc.tuple(fc.constantFrom('x', 'job', 'instance'), fc.constantFrom('', '1', 'j', 'v')), {
      maxLength: 2,
      selector: ([k]) => k,
    })
    .map((pairs) => Object.fromEntries(pairs) as Labels),
  value: fc.constantFrom(1, -1, 0.5, Number.NaN, 100),
  type: fc.constantFrom(undefined, undefined, 'counter', 'gauge', 'untyped', 'histogram'),
  help: fc.constantFrom(undefined, undefined, 'Help of it.', 'Help \\ of a.'),
});
const nearlyValidDocument = fc
  .uniqueArray(nearlyValidBlock, { minLength: 1, maxLength: 3, selector: (block) => block[0] })
  .map((blocks) => `${blocks.flat().join('\n')}\n`);
const fileText = fc.oneof(documentText, canonicalDocument, nearlyValidDocument, nearlyValidDocument);
const neighbour = fc.option(
  fc.record({ name: fc.constantFrom('0-first.prom', 'z-last.prom'), text: fc.oneof(canonicalDocument, nearlyValidDocument, documentText) }),
  { nil: undefined },
);
const lazy15 = (): Profile => profileForVersion('1.5.0') as Profile;
const options = fc.constantFrom<UpdateOptions>(
  { dryRun: true },
  { dryRun: true, profile: ALL_VERSIONS },
  { dryRun: true, profile: lazy15 },
  { dryRun: true, profile: profileForVersion('1.9.0') },
  { dryRun: true, dirCheck: false },
  { dryRun: true, allowEmpty: true },
);

describe('a change by scan and by the strict path', () => {
  it('decide alike on generated files, other files and profiles (dry runs)', async () => {
    let scanned = 0;
    await fc.assert(
      fc.asyncProperty(fileText, neighbour, op, options, async (text, other, change, given) => {
        if (scanFile(Buffer.from(text)) !== undefined) scanned++;
        const strict = await run(text, other, change, given, false);
        expect(await run(text, other, change, given, true)).toEqual(strict);
      }),
      { numRuns: RUNS },
    );
    // Most generated files the scanner vouches for, so the scan path itself was judged.
    expect(scanned).toBeGreaterThan(RUNS / 3);
  }, 180_000); // each dry run takes the lock, as the real run does

  it('write the same bytes, or refuse alike and keep the old file, leaving no temp file', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(canonicalDocument, nearlyValidDocument),
        neighbour,
        op,
        fc.constantFrom<UpdateOptions>({}, { profile: lazy15 }),
        async (text, other, change, given) => {
          const strict = await run(text, other, change, given, false);
          expect(await run(text, other, change, given, true)).toEqual(strict);
          if ('error' in strict) expect(strict.file).toBe(text);
        },
      ),
      { numRuns: Math.max(20, Math.floor(RUNS / 8)) },
    );
  });

  it('refuses what the directory would drop, naming the other file, with the old file intact', async () => {
    const text = '# HELP a A.\n# TYPE a gauge\na{x="1"} 1\n# HELP b B.\n# TYPE b gauge\nb 2\n';
    const other = { name: '0-first.prom', text: '# HELP b Other.\n# TYPE b gauge\nb{y="1"} 1\n' };
    const set = { kind: 'set', name: 'a', labels: { x: '2' }, value: 3, type: undefined, help: undefined } as const;
    const fast = await run(text, other, set, {}, true);
    expect(fast).toEqual(await run(text, other, set, {}, false));
    expect(fast).toMatchObject({ error: { code: 'ERR_DIRECTORY_CONFLICT' }, file: text, entries: ['0-first.prom', 'target.prom'] });
    expect('error' in fast && fast.error.message).toMatch(/"b" has HELP "B\." here but HELP "Other\." in 0-first\.prom/);
  });

  it('refuses a new histogram beside a copied family named like its series, as the strict path does', async () => {
    const text = '# HELP h_bucket B.\n# TYPE h_bucket gauge\nh_bucket 1\n# HELP m M.\n# TYPE m gauge\nm 1\n';
    const observe = { kind: 'observe', name: 'h', labels: {}, value: 0.5, type: undefined, help: undefined } as const;
    const fast = await run(text, undefined, observe, {}, true);
    expect(fast).toEqual(await run(text, undefined, observe, {}, false));
    expect(fast).toMatchObject({ error: { message: expect.stringMatching(/h_bucket.*collides with histogram "h"/) }, file: text });
  });
});

describe('the scan of an existing file', () => {
  it('parses only the families a change names, and the histogram or summary such a name belongs to', () => {
    const families = Array.from({ length: 200 }, (_, i) => `# HELP m${i} M.\n# TYPE m${i} gauge\nm${i}{x="1"} ${i}\n`);
    const text = `${families.join('')}# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n`;
    const scanned = scanFile(Buffer.from(text));
    expect(scanned?.series).toBe(203);
    const blocks = scanned?.blocks;
    expect(blocks?.size).toBe(201);
    const split = splitFile(blocks as NonNullable<typeof blocks>, relatedNames(['m7', 'h_count']));
    expect(split.parsed.map((family) => family.name)).toEqual(['h', 'm7']);
    expect(split.copied.size).toBe(199);
    expect(split.copied.get('m8')?.stub).toEqual({ name: 'm8', type: 'gauge', help: undefined, samples: [] });
  });

  it('does not vouch for a file with a warning, an error or a family that resumes', () => {
    for (const text of [
      'a 1\nb 1\na 2\n',
      'a{x="1"} 1\na{x="1"} 2\n',
      '# HELP a A.\n# TYPE a gauge\n',
      'a_total -1\n# TYPE a_total counter\n',
    ])
      expect(scanFile(Buffer.from(text))).toBeUndefined();
  });
});

describe.skipIf(!HAVE_PEERS)('a change by scan on the peer corpus', () => {
  it('decides as the strict path on every case', async () => {
    let compared = 0;
    for (const { caseDir, file, bytes } of peerFiles()) {
      const text = bytes.toString('utf8');
      const first = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/m.exec(text)?.[1] ?? 'absent';
      for (const change of [
        { kind: 'set', name: 'peer_new', labels: {}, value: 1, type: undefined, help: undefined },
        { kind: 'set', name: first, labels: { x: 'peer' }, value: 2, type: undefined, help: undefined },
        { kind: 'unset', name: first, labels: {}, value: 0, type: undefined, help: undefined },
      ] as const) {
        const strict = await run(text, undefined, change, { dryRun: true }, false);
        const scanned = await run(text, undefined, change, { dryRun: true }, true);
        expect({ caseDir, prom: file, ...scanned }).toEqual({ caseDir, prom: file, ...strict });
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(900);
  }, 180_000); // 1,800 dry runs, each taking the lock as the real run does
});
