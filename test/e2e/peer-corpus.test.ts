// The differential test: every case of the peer corpus (other projects'
// parser tests, read from ../shared/peer-cases at test time, never copied)
// and of our own probes (test/fixtures/probes) goes through promfile's check
// and through every node_exporter found. promfile, judging by a version's
// profile, must accept exactly what that version exposes intact (every
// series, same value, no scrape error, no gather error, no crash) and refuse
// the rest. Where versions disagree, the default profile (all versions at
// once) must refuse.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { analyseTextfiles } from '../../src/inspect/check.js';
import { writeTextfile } from '../../src/textfile/write.js';
import { parseExposition, readExposition } from '../../src/format/parse.js';
import { ALL_VERSIONS, profileForVersion, type Profile } from '../../src/format/profile.js';
import { seriesKey } from '../../src/format/validate.js';
import { NODE_EXPORTERS, type NodeExporterBinary } from '../helpers/binaries.js';
import { PEER_CASES } from '../helpers/fixtures.js';
import { ROOT, tempDir } from '../helpers/cli.js';
import { scrapeError, startNodeExporter, type NodeExporter } from '../helpers/node-exporter.js';

const PROBES = join(ROOT, 'test', 'fixtures', 'probes');

/**
 * Cases where promfile is stricter than node_exporter on purpose, and why.
 * Listed exactly: the test fails when one of them starts to agree.
 */
const STRICTER_BY_POLICY: Readonly<Record<string, string>> = {
  'ne-inconsistent_metrics':
    "it defines go_goroutines with node_exporter's own HELP and TYPE and extra labels, so node_exporter merges it with its own; promfile refuses every family named like node_exporter's own metrics (their HELP texts differ between versions)",
};

/** Files of a case that node_exporter may read (the peer cases' CASE and EXPECTED.out notes are not). */
const NOTES = new Set(['CASE', 'EXPECTED.out']);

interface Case {
  readonly name: string;
  readonly dir: string;
}

function casesIn(root: string | undefined, prefix: string): Case[] {
  if (root === undefined) return [];
  return readdirSync(root)
    .filter((name) => statSync(join(root, name)).isDirectory())
    .sort()
    .map((name) => ({ name: `${prefix}${name}`, dir: join(root, name) }));
}

const CASES = [...casesIn(PEER_CASES, ''), ...casesIn(PROBES, 'probe:')];

/** What one node_exporter did with one case. */
interface Outcome {
  readonly crashed: boolean;
  readonly scrapeError: number | undefined;
  /** Errors it logged while serving the scrape (gather errors drop series silently). */
  readonly errors: string[];
  /** series key → value, of everything it exposed. */
  readonly exposed: Map<string, number>;
}

/** promfile's reading of a case's *.prom files, in node_exporter's order. */
function sourcesOf(testCase: Case): Array<{ path: string; bytes: Uint8Array }> {
  return readdirSync(testCase.dir)
    .filter((name) => name.endsWith('.prom'))
    .sort()
    .map((name) => ({ path: join(testCase.dir, name), bytes: readFileSync(join(testCase.dir, name)) }));
}

function verdict(testCase: Case, profile: Profile): { accepts: boolean; series: Map<string, number> } {
  const analysis = analyseTextfiles(sourcesOf(testCase), profile);
  const series = new Map<string, number>();
  for (const file of analysis.files)
    if (file.accepted)
      for (const family of file.families)
        for (const sample of family.samples) series.set(seriesKey(sample.name, sample.labels), sample.value);
  return { accepts: !analysis.findings.some((finding) => finding.severity === 'error'), series };
}

function intact(outcome: Outcome, series: ReadonlyMap<string, number>): boolean {
  if (outcome.crashed || outcome.scrapeError !== 0 || outcome.errors.length > 0) return false;
  for (const [key, value] of series) {
    const exposed = outcome.exposed.get(key);
    if (exposed === undefined || !(Object.is(exposed, value) || exposed === value)) return false;
  }
  return true;
}

/** One node_exporter over a scratch directory, restarted after a crash. */
class Judge {
  private exporter: NodeExporter | undefined;

  constructor(
    private readonly binary: NodeExporterBinary,
    private readonly dir: string,
  ) {}

  async outcome(testCase: Case): Promise<Outcome> {
    for (const name of await readdir(this.dir)) await rm(join(this.dir, name), { recursive: true, force: true });
    for (const name of readdirSync(testCase.dir)) if (!NOTES.has(name)) await copyFile(join(testCase.dir, name), join(this.dir, name));
    this.exporter ??= await startNodeExporter(this.dir, { binary: this.binary.path });
    const exporter = this.exporter;
    const mark = exporter.log().length;
    const text = await exporter.scrape().catch(() => undefined);
    await sleep(20); // let its log catch up with the response
    const log = exporter.log().slice(mark);
    const crashed = text === undefined || !exporter.alive() || /^panic: /m.test(log);
    if (crashed) {
      await exporter.stop();
      this.exporter = undefined;
    }
    const exposed = new Map<string, number>();
    for (const family of readExposition(text ?? '').families)
      for (const sample of family.samples) exposed.set(seriesKey(sample.name, sample.labels), sample.value);
    const errors = log.split('\n').filter((line) => /level=(?:error|ERROR)|error gathering metrics/.test(line));
    return { crashed, scrapeError: text === undefined ? undefined : scrapeError(text), errors, exposed };
  }

  async stop(): Promise<void> {
    await this.exporter?.stop();
  }
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
        for (const testCase of CASES) byCase.set(testCase.name, await judge.outcome(testCase));
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
        const { accepts, series } = verdict(testCase, profile);
        const exposedIntact = intact(outcome, series);
        if (!accepts && exposedIntact && testCase.name in STRICTER_BY_POLICY) stricter.push(testCase.name);
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
      if (PEER_CASES !== undefined) expect(stricter).toEqual(Object.keys(STRICTER_BY_POLICY));
    },
  );

  it('where the known versions disagree, the default profile refuses what any of them loses', () => {
    const versions = ['1.5', '1.9'].map((minor) => NODE_EXPORTERS.find((binary) => binary.minor === minor));
    if (versions.some((binary) => binary === undefined)) return; // needs both; CI has both (binaries.ts)
    let differing = 0;
    for (const testCase of CASES) {
      const { accepts, series } = verdict(testCase, ALL_VERSIONS);
      const intactIn = versions.map((binary) => intact(outcomes.get(binary?.version ?? '')?.get(testCase.name) as Outcome, series));
      if (intactIn[0] !== intactIn[1]) differing++;
      if (testCase.name in STRICTER_BY_POLICY) expect(accepts, testCase.name).toBe(false);
      else expect(accepts, testCase.name).toBe(intactIn.every(Boolean));
    }
    console.info(`node_exporter 1.5 and 1.9 differ on ${differing} of ${CASES.length} cases; the default profile refuses each`);
    expect(differing).toBeGreaterThan(0);
  });

  it('write refuses exactly what check refuses (a warning is written), for every single-file case', async () => {
    const { dir, cleanup: done } = await tempDir('promfile-peer-write-');
    try {
      for (const testCase of CASES) {
        const sources = sourcesOf(testCase);
        if (sources.length !== 1) continue;
        const { accepts } = verdict(testCase, ALL_VERSIONS);
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
