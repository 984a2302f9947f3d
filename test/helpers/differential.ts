// promfile against a real node_exporter, file set by file set: what one
// version exposes of a textfile directory, and what promfile says of the same
// files under a profile. Shared by the peer-corpus test and the fuzzer.
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { analyseTextfiles } from '../../src/inspect/check.js';
import { readExposition } from '../../src/format/parse.js';
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
}

/** promfile's verdict on files under a profile. */
export function verdict(files: readonly Textfile[], dir: string, profile: Profile): Verdict {
  const sources = [...files]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((file) => ({ path: join(dir, file.name), bytes: file.bytes }));
  const analysis = analyseTextfiles(sources, profile);
  const series = new Map<string, number>();
  const claimed = new Map<string, number>();
  let duplicated = false;
  for (const file of analysis.files)
    for (const family of file.families)
      for (const sample of family.samples) {
        const key = seriesKey(sample.name, sample.labels);
        duplicated ||= claimed.has(key);
        claimed.set(key, sample.value);
        if (file.accepted) series.set(key, sample.value);
      }
  return { accepts: !analysis.findings.some((finding) => finding.severity === 'error'), series, claimed, duplicated };
}

/** Every series promfile expects is exposed with its value, and node_exporter neither crashed nor reported an error. */
export function intact(outcome: Outcome, series: ReadonlyMap<string, number>): boolean {
  if (outcome.crashed || outcome.scrapeError !== 0 || outcome.errors.length > 0) return false;
  for (const [key, value] of series) {
    const exposed = outcome.exposed.get(key);
    if (exposed === undefined || !(Object.is(exposed, value) || exposed === value)) return false;
  }
  return true;
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
    for (const family of readExposition(text ?? '').families)
      for (const sample of family.samples) exposed.set(seriesKey(sample.name, sample.labels), sample.value);
    const errors = log.split('\n').filter((line) => /level=(?:error|ERROR)|error gathering metrics/.test(line));
    return { crashed, scrapeError: text === undefined ? undefined : scrapeError(text), errors, exposed };
  }

  async stop(): Promise<void> {
    await this.exporter?.stop();
  }
}
