// The differential test: every case of the peer corpus (other projects'
// parser tests, read from ../shared/peer-cases at test time, never copied)
// and of our own probes (test/fixtures/probes) goes through promfile's check
// and through every node_exporter found. promfile, judging by a version's
// profile, must accept exactly what that version exposes intact (every
// series, same value, no scrape error, no gather error, no crash) and refuse
// the rest. Where versions disagree, the default profile (all versions at
// once) must refuse.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { writeTextfile } from '../../src/textfile/write.js';
import { parseExposition } from '../../src/format/parse.js';
import { ALL_VERSIONS, KNOWN_VERSIONS, profileForVersion, type Profile } from '../../src/format/profile.js';
import { NODE_EXPORTERS } from '../helpers/binaries.js';
import { ROOT, tempDir } from '../helpers/cli.js';
import { Judge, intact, verdict, type Outcome, type Textfile, type Verdict } from '../helpers/differential.js';
import { casesIn, PEER_CASES, type Case } from '../helpers/peer-cases.js';

const PROBES = join(ROOT, 'test', 'fixtures', 'probes');

/**
 * Cases where promfile is stricter than node_exporter on purpose, and why
 * (README's deliberate cases), with the versions that expose them intact.
 * Listed exactly: the test fails when one of them starts to agree.
 */
const STRICTER_BY_POLICY: Readonly<Record<string, { readonly versions: readonly string[]; readonly reason: string }>> = {
  'ne-inconsistent_metrics': {
    versions: ['1.5', '1.9', '1.11'],
    reason:
      "it defines go_goroutines with node_exporter's own HELP and TYPE and extra labels, so node_exporter merges it with its own; promfile refuses every family named like node_exporter's own metrics (their HELP texts differ between versions)",
  },
  ...Object.fromEntries(
    ['common-good-16', 'common-good-17', 'probe:gauge-histogram'].map((name) => [
      name,
      {
        versions: ['1.5', '1.9'],
        reason:
          '`# TYPE x gauge_histogram` with _bucket/_sum/_count samples: 1.5 and 1.9 expose them as untyped, 1.11 panics at every scrape (unknown metric type); what crashes any version is refused under every profile',
      },
    ]),
  ),
  ...Object.fromEntries(
    ['pyom-invalid-146', 'pyom-invalid-158'].map((name) => [
      name,
      {
        versions: ['1.11'],
        reason:
          "`# TYPE a gaugehistogram` (OpenMetrics' spelling) with only a_gsum/a_gcount samples: 1.11 alone reads the word, and panics at every scrape once the family has a bucket, _sum or _count; 1.5 and 1.9 reject the file. promfile refuses the word under every profile",
      },
    ]),
  ),
};

/** The cases stricter by policy for node_exporter `minor`. */
function stricterFor(minor: string): string[] {
  return Object.entries(STRICTER_BY_POLICY)
    .filter(([, policy]) => policy.versions.includes(minor))
    .map(([name]) => name);
}

/** Files of a case that node_exporter may read (the peer cases' CASE and EXPECTED.out notes are not). */
const NOTES = new Set(['CASE', 'EXPECTED.out']);

const CASES = [...casesIn(PEER_CASES, ''), ...casesIn(PROBES, 'probe:')];

/** The files of a case node_exporter may read, in its directory's order. */
function filesOf(testCase: Case): Textfile[] {
  return readdirSync(testCase.dir)
    .filter((name) => !NOTES.has(name))
    .sort()
    .map((name) => ({ name, bytes: readFileSync(join(testCase.dir, name)) }));
}

/** promfile's verdict on a case's *.prom files. */
function verdictOf(testCase: Case, profile: Profile): Verdict {
  return verdict(
    filesOf(testCase).filter((file) => file.name.endsWith('.prom')),
    testCase.dir,
    profile,
  );
}

describe.skipIf(NODE_EXPORTERS.length === 0)('the peer corpus and our probes: promfile agrees with every node_exporter', () => {
  const outcomes = new Map<string, Map<string, Outcome>>(); // version → case → outcome
  let cleanup: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    if (PEER_CASES === undefined) console.warn('peer corpus not found (../shared/peer-cases, $PROMFILE_PEER_CASES): probes only');
    const scratch = await tempDir('promfile-peer-');
    cleanup = scratch.cleanup;
    for (const binary of NODE_EXPORTERS) {
      const dir = join(scratch.dir, binary.version);
      await mkdir(dir);
      const judge = new Judge(binary, dir);
      const byCase = new Map<string, Outcome>();
      try {
        for (const testCase of CASES) byCase.set(testCase.name, await judge.outcome(filesOf(testCase)));
      } finally {
        await judge.stop();
      }
      outcomes.set(binary.version, byCase);
    }
  }, 600_000);

  afterAll(async () => cleanup?.());

  it.each(NODE_EXPORTERS.map((binary) => [binary.version, binary] as const))(
    'judging by the profile of %s, promfile accepts exactly what it exposes intact',
    (version, binary) => {
      const profile = profileForVersion(binary.version) ?? ALL_VERSIONS;
      const disagreements: string[] = [];
      const stricter: string[] = [];
      for (const testCase of CASES) {
        const outcome = outcomes.get(version)?.get(testCase.name) as Outcome;
        const { accepts, series, families } = verdictOf(testCase, profile);
        const exposedIntact = intact(outcome, series, families);
        if (!accepts && exposedIntact && stricterFor(binary.minor).includes(testCase.name)) stricter.push(testCase.name);
        else if (accepts !== exposedIntact)
          disagreements.push(
            `${testCase.name}: promfile ${accepts ? 'accepts' : 'refuses'}, node_exporter ${version} ${exposedIntact ? 'exposes it intact' : `loses data${outcome.crashed ? ' (crash)' : ''}`}`,
          );
      }
      const agreed = CASES.length - disagreements.length;
      console.info(
        `node_exporter ${version}: promfile agrees on ${agreed - stricter.length} of ${CASES.length} cases (${((100 * (agreed - stricter.length)) / CASES.length).toFixed(1)}%), and is stricter by policy on ${stricter.length}: ${stricter.join(', ')}`,
      );
      expect(disagreements).toEqual([]);
      if (PEER_CASES !== undefined) expect([...stricter].sort()).toEqual(stricterFor(binary.minor).sort());
    },
  );

  it('where the known versions disagree, the default profile refuses what any of them loses', () => {
    const versions = KNOWN_VERSIONS.map((minor) => NODE_EXPORTERS.find((binary) => binary.minor === minor));
    if (versions.some((binary) => binary === undefined)) return; // needs every one; CI has them (binaries.ts)
    let differing = 0;
    for (const testCase of CASES) {
      const { accepts, series, families } = verdictOf(testCase, ALL_VERSIONS);
      const intactIn = versions.map((binary) =>
        intact(outcomes.get(binary?.version ?? '')?.get(testCase.name) as Outcome, series, families),
      );
      if (new Set(intactIn).size > 1) differing++;
      if (testCase.name in STRICTER_BY_POLICY) expect(accepts, testCase.name).toBe(false);
      else expect(accepts, testCase.name).toBe(intactIn.every(Boolean));
    }
    console.info(
      `node_exporter ${KNOWN_VERSIONS.join(', ')} differ on ${differing} of ${CASES.length} cases; the default profile refuses each`,
    );
    expect(differing).toBeGreaterThan(0);
  });

  it('write refuses exactly what check refuses (a warning is written), for every single-file case', async () => {
    const { dir, cleanup: done } = await tempDir('promfile-peer-write-');
    try {
      for (const testCase of CASES) {
        const sources = filesOf(testCase).filter((file) => file.name.endsWith('.prom'));
        if (sources.length !== 1) continue;
        const { accepts } = verdictOf(testCase, ALL_VERSIONS);
        const source = sources[0] as { bytes: Uint8Array };
        // Through the library's write path, directory check included; nothing to report is written too.
        const write = async (): Promise<string> => writeTextfile(dir, parseExposition(source.bytes), { name: 'case', allowEmpty: true });
        const written = await write().then(
          () => true,
          (error: unknown) => {
            expect(error).toBeInstanceOf(InputError);
            return false;
          },
        );
        expect(written, testCase.name).toBe(accepts);
        await rm(join(dir, 'case.prom'), { force: true });
      }
    } finally {
      await done();
    }
  });
});
