// The directory check reads the other textfiles by the byte scanner and
// parses only the families the target shares with them. It must refuse
// exactly what node_exporter's merge of the fully parsed files drops, and
// give the HELP the first file defines, on generated directories.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PromfileError } from '../../src/errors.js';
import { scanFile } from '../../src/format/fast-file.js';
import { mergeProblems, type MergeFile, type MergeProblem } from '../../src/format/merge.js';
import { compareNames } from '../../src/format/names.js';
import { readExposition } from '../../src/format/parse.js';
import { ALL_VERSIONS, profileForVersion, type Profile } from '../../src/format/profile.js';
import type { MetricFamily } from '../../src/format/types.js';
import { assertFitsDirectory, readNeighbours } from '../../src/textfile/neighbours.js';
import { tempDir } from '../helpers/cli.js';
import { canonicalDocument, documentText, nearlyValidBlock } from '../helpers/exposition-cases.js';

const RUNS = Number(process.env['PROMFILE_PROPERTY_RUNS'] ?? 400);

let root: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir: root, cleanup } = await tempDir()));
afterAll(async () => cleanup?.());

/** The files as node_exporter merges them, each parsed whole (what the check did before it scanned). */
function parsedWhole(files: ReadonlyArray<{ path: string; text: string }>, profile: Profile | undefined): MergeFile[] {
  return files.flatMap(({ path, text }) => {
    const { families, problems } = readExposition(text, profile ? { profile } : {});
    return problems.some((problem) => problem.wholeFile && problem.severity === 'error') ? [] : [{ path, families }];
  });
}

/** The refusal the merge of whole files gives: a problem of the target, else one it newly causes in another file. */
function expectedRefusal(
  others: MergeFile[],
  path: string,
  families: readonly MetricFamily[],
  before: readonly MetricFamily[] | undefined,
  profile: Profile | undefined,
): string | undefined {
  const merged = (target: readonly MetricFamily[] | undefined): MergeProblem[] =>
    mergeProblems(
      [...others, ...(target === undefined ? [] : [{ path, families: target }])].sort((a, b) =>
        compareNames(basename(a.path), basename(b.path)),
      ),
      profile,
    );
  const key = (problem: MergeProblem): string => `${problem.file}\u0000${problem.rule}\u0000${problem.message}`;
  const after = merged(families).filter((problem) => problem.severity === 'error');
  const existing = new Set(merged(before).map(key));
  return (after.find((problem) => problem.file === path) ?? after.find((problem) => problem.other === path && !existing.has(key(problem))))
    ?.message;
}

const nearlyValidDocument = fc
  .uniqueArray(nearlyValidBlock, { minLength: 1, maxLength: 3, selector: (block) => block[0] })
  .map((blocks) => `${blocks.flat().join('\n')}\n`);
const text = fc.oneof(canonicalDocument, canonicalDocument, nearlyValidDocument, documentText);
const parsedOrNothing = (source: string): MetricFamily[] | undefined => {
  const { families, problems } = readExposition(source);
  return problems.some((problem) => problem.severity === 'error') ? undefined : families;
};

describe('readNeighbours and assertFitsDirectory', () => {
  it('refuse what the merge of the whole files refuses, and give the first HELP, on generated directories', async () => {
    let scanned = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.record({ name: fc.constantFrom('0-a.prom', '1-b.prom', 'z-c.prom'), text }), {
          maxLength: 3,
          selector: (f) => f.name,
        }),
        text,
        fc.option(text, { nil: undefined }),
        fc.constantFrom<Profile | undefined>(
          undefined,
          ALL_VERSIONS,
          profileForVersion('1.5.0') as Profile,
          profileForVersion('1.9.0') as Profile,
        ),
        // Read whole, or scanned in chunks (as a file of 4 MiB or more is) with a second scan for what the check wants.
        fc.constantFrom(undefined, 0),
        async (files, target, current, profile, streamFrom) => {
          const families = parsedOrNothing(target);
          fc.pre(families !== undefined);
          const dir = join(root, 'd');
          await rm(dir, { recursive: true, force: true });
          await mkdir(dir);
          const others = files
            .map((file) => ({ path: join(dir, file.name), text: file.text }))
            .sort((a, b) => compareNames(basename(a.path), basename(b.path)));
          for (const other of others) await writeFile(other.path, other.text);
          scanned += others.filter((other) => scanFile(Buffer.from(other.text)) !== undefined).length;
          const path = join(dir, 'm-target.prom');
          const before = current === undefined ? undefined : parsedOrNothing(current);
          const neighbours = readNeighbours(path, profile, streamFrom === undefined ? {} : { streamFrom });
          let got: string | undefined;
          try {
            await assertFitsDirectory(path, families, neighbours, async () => before, profile);
          } catch (error) {
            if (!(error instanceof PromfileError)) throw error;
            got = error.message;
          }
          const whole = parsedWhole(others, profile);
          const want = expectedRefusal(whole, path, families, before, profile);
          if (want === undefined) expect(got).toBeUndefined();
          else expect(got).toContain(want);
          if (want !== undefined) refused++;
          for (const name of ['a', 'a_total', 'h', 's', 'b:c']) {
            const first = whole.flatMap((file) => file.families).find((family) => family.name === name && family.help);
            expect(neighbours.helpOf(name)).toBe(first?.help);
          }
          expect((await readdir(dir)).sort()).toEqual(files.map((file) => file.name).sort());
        },
      ),
      { numRuns: RUNS },
    );
    // The scanner vouched for many of the files, and the directories conflicted often enough.
    expect(scanned).toBeGreaterThan(RUNS / 4);
    expect(refused).toBeGreaterThan(RUNS / 50);
  }, 180_000);
});
