// promfile against a real node_exporter, file set by file set: what one
// version exposes of a textfile directory, and what promfile says of the same
// files under a profile. Shared by the peer-corpus test and the fuzzer.
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { analyseTextfiles } from '../../src/inspect/check.js';
import { readExposition } from '../../src/format/parse.js';
import { renderExposition } from '../../src/format/render.js';
import type { Profile } from '../../src/format/profile.js';
import { seriesKey } from '../../src/format/validate.js';
import type { NodeExporterBinary } from './binaries.js';
import { scrapeError, startNodeExporter, type NodeExporter } from './node-exporter.js';

/** One textfile: its name in the directory and its bytes. */
export interface Textfile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** What one node_exporter did with one set of files. */
export interface Outcome {
  readonly crashed: boolean;
  readonly scrapeError: number | undefined;
  /** Errors it logged while serving the scrape (gather errors drop series silently). */
  readonly errors: string[];
  /** series key → value, of everything it exposed. */
  readonly exposed: Map<string, number>;
  /** family name → the keys of the series it exposed in that family. */
  readonly byFamily: Map<string, string[]>;
}

/** promfile's verdict on a set of files. */
export interface Verdict {
  /** No error: node_exporter will expose every series. */
  readonly accepts: boolean;
  /** The series of the files node_exporter reads (not rejected whole), key → value. */
  readonly series: Map<string, number>;
  /** Every sample promfile read, rejected files included: what the files claim. */
  readonly claimed: Map<string, number>;
  /** Some series is claimed twice (node_exporter cannot expose both). */
  readonly duplicated: boolean;
  /** The families of the files node_exporter reads: in them, it must expose nothing promfile does not write. */
  readonly families: Set<string>;
  /** The families of every file, rejected ones included (what the files claim). */
  readonly claimedFamilies: Set<string>;
}

/** promfile's verdict on files under a profile. */
export function verdict(files: readonly Textfile[], dir: string, profile: Profile): Verdict {
  const sources = [...files]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((file) => ({ path: join(dir, file.name), bytes: file.bytes }));
  const analysis = analyseTextfiles(sources, profile);
  const series = new Map<string, number>();
  const claimed = new Map<string, number>();
  const families = new Set<string>();
  const claimedFamilies = new Set<string>();
  let duplicated = false;
  for (const file of analysis.files)
    // The file as promfile writes it (what node_exporter adds to a histogram or summary, where implied).
    for (const family of readExposition(renderExposition(file.families)).families) {
      if (file.accepted) families.add(family.name);
      claimedFamilies.add(family.name);
      for (const sample of family.samples) {
        const key = seriesKey(sample.name, sample.labels);
        duplicated ||= claimed.has(key);
        claimed.set(key, sample.value);
        if (file.accepted) series.set(key, sample.value);
      }
    }
  return {
    accepts: !analysis.findings.some((finding) => finding.severity === 'error'),
    series,
    claimed,
    duplicated,
    families,
    claimedFamilies,
  };
}

/**
 * Every series promfile expects is exposed with its value, node_exporter
 * neither crashed nor reported an error, and in `families` (those promfile
 * writes) it exposed nothing else: the file equals its exposition.
 */
export function intact(outcome: Outcome, series: ReadonlyMap<string, number>, families: ReadonlySet<string> = new Set()): boolean {
  if (outcome.crashed || outcome.scrapeError !== 0 || outcome.errors.length > 0) return false;
  for (const [key, value] of series) {
    const exposed = outcome.exposed.get(key);
    if (exposed === undefined || !(Object.is(exposed, value) || exposed === value)) return false;
  }
  for (const family of families) if (outcome.byFamily.get(family)?.some((key) => !series.has(key))) return false;
  return true;
}

/**
 * What the differential asks of a verdict: accepted, are the files exposed
 * intact; refused, is every series they claim exposed intact, once each (then
 * the refusal is in question)?
 */
export function exposedAsSaid(outcome: Outcome, said: Verdict): boolean {
  return said.accepts
    ? intact(outcome, said.series, said.families)
    : !said.duplicated && intact(outcome, said.claimed, said.claimedFamilies);
}

/** One node_exporter over a scratch directory whose files each case replaces; restarted after a crash. */
export class Judge {
  private exporter: NodeExporter | undefined;

  constructor(
    readonly binary: NodeExporterBinary,
    readonly dir: string,
  ) {}

  /** Replace the directory's files with `files`, scrape once, and say what node_exporter did (its log read `settleMs` later). */
  async outcome(files: readonly Textfile[], settleMs = 20): Promise<Outcome> {
    for (const name of await readdir(this.dir)) await rm(join(this.dir, name), { recursive: true, force: true });
    for (const file of files) await writeFile(join(this.dir, file.name), file.bytes);
    this.exporter ??= await startNodeExporter(this.dir, { binary: this.binary.path });
    const exporter = this.exporter;
    const mark = exporter.log().length;
    const text = await exporter.scrape().catch(() => undefined);
    await sleep(settleMs); // let its log catch up with the response
    const log = exporter.log().slice(mark);
    const crashed = text === undefined || !exporter.alive() || /^panic: /m.test(log);
    if (crashed) {
      await exporter.stop();
      this.exporter = undefined;
    }
    const exposed = new Map<string, number>();
    const byFamily = new Map<string, string[]>();
    for (const family of readExposition(text ?? '').families) {
      const keys = family.samples.map((sample) => seriesKey(sample.name, sample.labels));
      family.samples.forEach((sample, i) => exposed.set(keys[i] as string, sample.value));
      byFamily.set(family.name, keys);
    }
    const errors = log.split('\n').filter((line) => /level=(?:error|ERROR)|error gathering metrics/.test(line));
    return { crashed, scrapeError: text === undefined ? undefined : scrapeError(text), errors, exposed, byFamily };
  }

  async stop(): Promise<void> {
    await this.exporter?.stop();
  }
}
