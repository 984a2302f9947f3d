// The streaming writer checks the new file against the other *.prom files of
// its directory as updateTextfile does (the whole-input `write`), reading back
// only the families that share a name with another file: the same bytes or
// the same refusal, per profile, with the old file kept and no temp file left.
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PromfileError } from '../../src/errors.js';
import { parseExposition } from '../../src/format/parse.js';
import { ALL_VERSIONS, judgeByProfile, profileForVersion, type Profile, type ProfileChoice } from '../../src/format/profile.js';
import { writeExpositionStream } from '../../src/textfile/stream-write.js';
import { updateTextfile } from '../../src/textfile/update.js';
import { tempDir } from '../helpers/cli.js';
import { canonicalDocument, documentText, nearlyValidBlock } from '../helpers/exposition-cases.js';

// Each run writes twice under the lock (no dry run here): a quarter of the usual property runs.
const RUNS = Math.max(40, Math.floor(Number(process.env['PROMFILE_PROPERTY_RUNS'] ?? 400) / 4));

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(async () => cleanup?.());

async function* chunks(text: string, size = 7): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

type Outcome = { error?: { kind: string; code: string; message: string }; file: string | undefined; entries: string[] };

interface Case {
  readonly existing: string | undefined;
  readonly neighbour: { readonly name: string; readonly text: string } | undefined;
  readonly input: string;
  readonly profile: ProfileChoice | undefined;
}

/** Write `input` as the whole file, streamed or as the whole-input `write` does, and record all it did. */
async function run(given: Case, streamed: boolean): Promise<Outcome> {
  for (const name of await readdir(dir)) await rm(join(dir, name), { force: true });
  const path = join(dir, 'target.prom');
  if (given.existing !== undefined) await writeFile(path, given.existing);
  if (given.neighbour) await writeFile(join(dir, given.neighbour.name), given.neighbour.text);
  const profile = given.profile === undefined ? {} : { profile: given.profile };
  let error: Outcome['error'];
  try {
    if (streamed) await writeExpositionStream(path, chunks(given.input), { ...profile, allowEmpty: true });
    else {
      const families = judgeByProfile(given.profile, (judged) => parseExposition(given.input, judged ? { profile: judged } : {}));
      await updateTextfile(path, () => families, { ...profile, replace: true, prevalidated: true, allowEmpty: true });
    }
  } catch (caught) {
    if (!(caught instanceof PromfileError)) throw caught;
    error = { kind: caught.constructor.name, code: caught.code, message: caught.message };
  }
  return {
    ...(error ? { error } : {}),
    file: existsSync(path) ? await readFile(path, 'utf8') : undefined,
    entries: (await readdir(dir)).filter((name) => !name.startsWith('.')).sort(),
  };
}

const nearlyValidDocument = fc
  .uniqueArray(nearlyValidBlock, { minLength: 1, maxLength: 3, selector: (block) => block[0] })
  .map((blocks) => `${blocks.flat().join('\n')}\n`);
const text = fc.oneof(documentText, canonicalDocument, nearlyValidDocument);
const lazy = (version: string) => (): Profile => profileForVersion(version) as Profile;
const cases: fc.Arbitrary<Case> = fc.record({
  existing: fc.option(text, { nil: undefined }),
  neighbour: fc.option(fc.record({ name: fc.constantFrom('0-first.prom', 'z-last.prom'), text }), { nil: undefined }),
  input: fc.oneof(canonicalDocument, nearlyValidDocument, documentText),
  profile: fc.constantFrom<ProfileChoice | undefined>(
    undefined,
    ALL_VERSIONS,
    profileForVersion('1.9.0') as Profile,
    lazy('1.5.0'),
    lazy('1.9.0'),
  ),
});

describe('writeExpositionStream against the other files of the directory', () => {
  it('writes the same bytes as the whole-input write, or refuses alike and keeps the old file', async () => {
    let refusedByDirectory = 0;
    await fc.assert(
      fc.asyncProperty(cases, async (given) => {
        const whole = await run(given, false);
        expect(await run(given, true)).toEqual(whole);
        if (whole.error?.code === 'ERR_DIRECTORY_CONFLICT') refusedByDirectory++;
      }),
      { numRuns: RUNS },
    );
    // The generated directories conflict often enough that the check itself was judged.
    expect(refusedByDirectory).toBeGreaterThan(RUNS / 50);
  }, 180_000);

  it('refuses a name node_exporter keeps for itself, with no other file in the directory', async () => {
    const outcome = await run(
      { existing: 'old 1\n', neighbour: undefined, input: 'node_textfile_scrape_error 0\n', profile: undefined },
      true,
    );
    expect(outcome).toEqual({
      error: expect.objectContaining({
        code: 'ERR_DIRECTORY_CONFLICT',
        message: expect.stringMatching(/node_exporter's own.*rule node-collision/),
      }),
      file: 'old 1\n',
      entries: ['target.prom'],
    });
  });

  it("refuses a family named like the series of another file's histogram, though it shares no name with it", async () => {
    const neighbour = { name: '0-first.prom', text: '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n' };
    const outcome = await run({ existing: undefined, neighbour, input: '# TYPE h_count gauge\nh_count 2\n', profile: undefined }, true);
    expect(outcome.error?.message).toMatch(/"h_count" collides with histogram "h" in 0-first\.prom/);
    expect(outcome.entries).toEqual(['0-first.prom']);
  });

  it('keeps a conflict the old file already had with another file (it is not new)', async () => {
    const neighbour = { name: 'z-last.prom', text: '# HELP x X.\nx{a="1"} 1\n' };
    const existing = '# HELP x X.\n# TYPE x untyped\nx{a="1"} 1\n';
    const outcome = await run({ existing, neighbour, input: '# HELP x X.\nx{a="1"} 2\n', profile: undefined }, true);
    expect(outcome).toEqual({ file: '# HELP x X.\n# TYPE x untyped\nx{a="1"} 2\n', entries: ['target.prom', 'z-last.prom'] });
  });

  it('judges a block the strictest rules refuse again by a profile found only then', async () => {
    let found = 0;
    const profile = (): Profile => (found++, profileForVersion('1.9.0') as Profile);
    await run({ existing: undefined, neighbour: undefined, input: '# TYPE a gauge\na 1\n', profile }, true);
    expect(found).toBe(0);
    const outcome = await run({ existing: undefined, neighbour: undefined, input: '{"a_b"} 1\n', profile }, true);
    expect(outcome).toEqual({ file: '# TYPE a_b untyped\na_b 1\n', entries: ['target.prom'] });
    expect(found).toBeGreaterThan(0);
    expect(
      (await run({ existing: undefined, neighbour: undefined, input: '{"a_b"} 1\n', profile: undefined }, true)).error?.message,
    ).toMatch(/node_exporter 1\.5 rejects the whole file/);
  });
});
