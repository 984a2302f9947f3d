// A textfile among the other *.prom files of its directory: before a write,
// the new content goes through node_exporter's merge (format/merge.ts) with
// them, and what the merge would drop is refused. Costs one read of the
// directory per write (bench/neighbours.js measures it).
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../errors.js';
import { mergeProblems, type MergeFile, type MergeProblem } from '../format/merge.js';
import { FileScan, parseBlock, scanFile } from '../format/fast-file.js';
import { familyStub } from '../format/model.js';
import type { FastBlock } from '../format/fast-scan.js';
import { readExposition, type ReadOptions } from '../format/parse.js';
import { compareNames } from '../format/names.js';
import { judgeByProfile, type Profile, type ProfileChoice } from '../format/profile.js';
import type { MetricFamily, MetricType, Problem } from '../format/types.js';
import { readRegularFileChunksSync, readRegularFileSync } from './files.js';
import { escapedBytes } from './inventory.js';

/** The other *.prom files of a textfile's directory, as node_exporter reads them. */
export interface Neighbours {
  /** Every family name of the other files. */
  readonly names: ReadonlySet<string>;
  /**
   * Every *.prom file but the target, in node_exporter's order (files it
   * rejects whole are left out): the families named `wanted` in full, the
   * others by name and type, all that the merge reads of a family no other
   * file shares.
   */
  filesFor(wanted: ReadonlySet<string>): MergeFile[];
  /** The HELP a metric has in the first file that defines it (what node_exporter keeps), if any. */
  helpOf(name: string): string | undefined;
  /** What the check could not read within its bounds, and so could not judge against. */
  readonly unread: readonly Problem[];
  /** Whether the other *.prom files changed (appeared, went, or were rewritten) since they were read. */
  changed(): boolean;
}

/** One other file, as the directory check reads it. */
interface OtherFile {
  readonly path: string;
  readonly names: readonly string[];
  family(name: string): MetricFamily | undefined;
  /** Its families for the merge: those named `wanted` in full, the others as stubs. */
  asMerged(wanted: ReadonlySet<string>): MergeFile;
}

function parsedFile(path: string, families: readonly MetricFamily[]): OtherFile {
  return {
    path,
    names: families.map((family) => family.name),
    family: (name) => families.find((family) => family.name === name),
    asMerged: () => ({ path, families }),
  };
}

/**
 * A file the byte scanner vouches for (no problem at all), kept as its
 * checked blocks and parsed family by family as asked: a large inventory
 * file beside the target costs a scan, not a parse.
 */
function scannedFile(path: string, blocks: ReadonlyMap<string, FastBlock>): OtherFile {
  const parsed = new Map<string, MetricFamily | undefined>();
  const family = (name: string): MetricFamily | undefined => {
    const block = blocks.get(name);
    if (block !== undefined && !parsed.has(name)) parsed.set(name, parseBlock(block)[0]);
    return parsed.get(name);
  };
  const merged = (wanted: ReadonlySet<string>): MetricFamily[] =>
    [...blocks].map(([name, block]) => (wanted.has(name) && family(name)) || familyStub(name, block.type));
  return {
    path,
    names: [...blocks.keys()],
    family,
    asMerged: (wanted) => ({ path, families: merged(wanted).sort((a, b) => compareNames(a.name, b.name)) }),
  };
}

/**
 * Read the other *.prom files of `path`'s directory; a file that vanishes or
 * cannot be read is skipped. Files of `streamFrom` bytes or more are scanned
 * in chunks, never held whole.
 */
export function readNeighbours(path: string, profile?: Profile, bounds: NeighbourBounds = {}): Neighbours {
  const { streamFrom = STREAM_FROM, readAtMost = READ_AT_MOST, readWholeAtMost = READ_WHOLE_AT_MOST } = bounds;
  const dir = dirname(path);
  const before = snapshot(path);
  const read: ReadOptions = profile ? { profile } : {};
  const files: OtherFile[] = [];
  const unread: Problem[] = [];
  for (const { entry, size } of before.entries) {
    const other = join(dir, entry);
    if (size === undefined) continue; // gone, or not a name node_exporter can open (reported below)
    if (size >= readAtMost) {
      unread.push(tooLarge(entry, size, readAtMost));
      continue;
    }
    // Never blocks: a FIFO named *.prom is skipped like a directory, a file gone or unreadable (`check` reports them).
    const whole = size < streamFrom;
    const file = attempt(() => (whole ? wholeFile(other, read) : streamedFile(other, read, size < readWholeAtMost)));
    if (file === 'unjudged') unread.push(unjudged(entry, size));
    else if (file !== undefined) files.push(file);
  }
  unread.push(...before.undecodable.map(undecodableName));
  const names = new Set(files.flatMap((file) => file.names));
  return {
    names,
    unread,
    changed: () => snapshot(path).signature !== before.signature,
    filesFor: (wanted) => files.map((file) => file.asMerged(wanted)),
    helpOf: (name) => {
      if (!names.has(name)) return undefined;
      // The first file that gives one: a later file is not parsed (for a large one, not scanned again).
      for (const file of files) {
        const help = file.family(name)?.help;
        if (help) return help;
      }
      return undefined;
    },
  };
}

/** Files from this size on are scanned in chunks, so that a large inventory file beside the target is never held in memory. */
const STREAM_FROM = 4 << 20;

/**
 * Files from this size on are not read at all: the time spent on a neighbour
 * is bounded whatever its size (a sparse 2 GiB file costs nothing on disk).
 * node_exporter reads every file whole at each scrape; one this large makes
 * every scrape slow, which `check` reports.
 */
const READ_AT_MOST = 1 << 30;

/**
 * A file the chunked scan does not vouch for (a family that resumes, a
 * duplicate) is judged by the strict parser, which needs it whole: up to
 * this size. Larger, it is reported, never read whole (a sparse file of
 * gigabytes would be).
 */
const READ_WHOLE_AT_MOST = 64 << 20;

export interface NeighbourBounds {
  /** Files from this size on are scanned in chunks. */
  readonly streamFrom?: number;
  /** Files from this size on are not read, only reported. */
  readonly readAtMost?: number;
  /** Files the chunked scan does not vouch for are read whole below this size, else reported. */
  readonly readWholeAtMost?: number;
}

interface Snapshot {
  /** The other *.prom files by name, with their size (undefined: gone or not a regular file). */
  readonly entries: ReadonlyArray<{ readonly entry: string; readonly size: number | undefined }>;
  /** *.prom names that are not valid UTF-8. */
  readonly undecodable: readonly Buffer[];
  /** Names, inodes, sizes and change times: differs when any file changed. */
  readonly signature: string;
}

/** The other *.prom files of `path`'s directory as they are now; every entry is seen, names that are not UTF-8 too. */
function snapshot(path: string): Snapshot {
  const dir = dirname(path);
  const target = basename(path);
  const raw = attempt(() => readdirSync(dir, { encoding: 'buffer' })) ?? [];
  const entries: Array<{ entry: string; size: number | undefined }> = [];
  const undecodable: Buffer[] = [];
  const marks: string[] = [];
  for (const name of raw) {
    const entry = name.toString('utf8');
    if (!entry.endsWith('.prom') || entry === target) continue;
    if (!Buffer.from(entry).equals(name)) {
      undecodable.push(name);
      marks.push(name.toString('hex'));
      continue;
    }
    const info = attempt(() => statSync(join(dir, entry), { bigint: true }));
    const regular = info?.isFile() === true;
    entries.push({ entry, size: regular ? Number(info.size) : undefined });
    marks.push(info ? `${entry}\u0000${info.ino}\u0000${info.size}\u0000${info.mtimeNs}\u0000${info.ctimeNs}` : `${entry}\u0000-`);
  }
  entries.sort((a, b) => compareNames(a.entry, b.entry));
  return { entries, undecodable, signature: marks.sort().join('\n') };
}

function tooLarge(entry: string, size: number, limit: number): Problem {
  return {
    severity: 'warning',
    rule: 'too-large',
    message: `${entry} was not read for the directory check: it holds ${mebibytes(size)} (promfile reads at most ${mebibytes(limit)} of another file), so conflicts with it are not checked`,
  };
}

function unjudged(entry: string, size: number): Problem {
  return {
    severity: 'warning',
    rule: 'too-large',
    message: `${entry} could not be judged for the directory check within bounds: it holds ${mebibytes(size)} and is not in the shape promfile checks in chunks, and promfile reads at most ${mebibytes(READ_WHOLE_AT_MOST)} of such a file whole ("promfile check" reports why), so conflicts with it are not checked`,
  };
}

function undecodableName(name: Buffer): Problem {
  return {
    severity: 'warning',
    rule: 'invalid-utf8',
    message: `the directory holds a *.prom file whose name is not valid UTF-8 ("${escapedBytes(name)}"); node_exporter 1.5 fails at every scrape on it: rename or remove it`,
  };
}

const mebibytes = (bytes: number): string => `${(bytes / (1 << 20)).toFixed(0)} MiB`;

/** The file read whole: kept as the scanner's blocks, or parsed; undefined when node_exporter rejects it whole. */
function wholeFile(path: string, read: ReadOptions): OtherFile | undefined {
  const bytes = readRegularFileSync(path, { follow: true });
  const scanned = scanFile(bytes, read);
  if (scanned !== undefined) return scannedFile(path, scanned.blocks);
  const { families, problems } = readExposition(bytes, read);
  return problems.some((problem) => problem.wholeFile && problem.severity === 'error') ? undefined : parsedFile(path, families);
}

/**
 * A large file scanned in chunks for its names and types; the families the
 * check wants are read in a second scan, when it asks. A file the scanner
 * does not vouch for is read whole only when `mayReadWhole` (below
 * READ_WHOLE_AT_MOST); else it is 'unjudged', and the write says so.
 */
function streamedFile(path: string, read: ReadOptions, mayReadWhole: boolean): OtherFile | 'unjudged' | undefined {
  const types = new Map<string, MetricType>();
  const scan = new FileScan(read, (name, block) => types.set(name, block.type ?? 'untyped'), { reusedChunks: true, checkOnly: true });
  readRegularFileChunksSync(path, { follow: true }, (chunk) => scan.push(chunk));
  if (scan.end() === undefined) return mayReadWhole ? wholeFile(path, read) : 'unjudged';
  const parsed = new Map<string, MetricFamily | undefined>();
  const readFamilies = (wanted: ReadonlySet<string>): void => {
    const missing = new Set([...wanted].filter((name) => types.has(name) && !parsed.has(name)));
    if (missing.size === 0) return;
    for (const name of missing) parsed.set(name, undefined); // gone by the second scan: a stub stands in
    const again = new FileScan(read, (name, block) => missing.has(name) && parsed.set(name, parseBlock(block)[0]), { reusedChunks: true });
    attempt(() => {
      readRegularFileChunksSync(path, { follow: true }, (chunk) => again.push(chunk));
      again.end(); // closes the last family
    });
  };
  return {
    path,
    names: [...types.keys()],
    family: (name) => {
      readFamilies(new Set([name]));
      return parsed.get(name);
    },
    asMerged: (wanted) => {
      readFamilies(wanted);
      const families = [...types].map(([name, type]) => parsed.get(name) ?? familyStub(name, type));
      return { path, families: families.sort((a, b) => compareNames(a.name, b.name)) };
    },
  };
}

/** `fn`'s result, or undefined when it throws (a file gone, unreadable, or not a regular file). */
function attempt<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

/** The directory with `path` holding `families` (or absent, for undefined), in node_exporter's order. */
function withTarget(neighbours: Neighbours, path: string, families: readonly MetricFamily[] | undefined): MergeFile[] {
  // The other files' families that share a name with the target's are read in full; the rest are stubs.
  const files = neighbours.filesFor(new Set(families?.map((family) => family.name)));
  if (families !== undefined) files.push({ path, families });
  return files.sort((a, b) => compareNames(basename(a.path), basename(b.path)));
}

const key = (problem: MergeProblem): string => `${problem.file}\u0000${problem.rule}\u0000${problem.message}`;

/** The target as the check sees it under one reading of the directory: its new families and its current ones. */
export interface TargetReading {
  readonly families: readonly MetricFamily[];
  readonly before: FamiliesBefore;
}

/** Names node_exporter's own collectors export, and where they were learnt (for the message). */
export interface FoundCollectorNames {
  readonly names: ReadonlySet<string>;
  readonly source: string;
}

/**
 * The names the running node_exporter's own collectors export, found only
 * when a write brings a name new to the directory (asking costs a scrape);
 * undefined when they cannot be had.
 */
export type CollectorNames = () => Promise<FoundCollectorNames | undefined>;

/**
 * The directory check by the strictest rules first and, only if they refuse,
 * by a lazily found profile's, with the other files read again under it.
 * `target` gives the target for each reading of the other files, or
 * undefined when it cannot: then false (the caller takes another path).
 * With `collectors`, a family new to the directory must not be named like
 * one of node_exporter's own collectors' metrics.
 */
export async function checkAgainstDirectory(
  path: string,
  neighbours: Neighbours,
  profile: ProfileChoice | undefined,
  target: (others: Neighbours, profile: Profile | undefined) => TargetReading | undefined,
  collectors?: CollectorNames,
): Promise<boolean> {
  let judged: { reading: TargetReading; others: Neighbours } | undefined;
  const judge = async (others: Neighbours, given: Profile | undefined): Promise<boolean> => {
    const reading = target(others, given);
    if (reading === undefined) return false;
    await assertFitsDirectory(path, reading.families, others, reading.before, given);
    judged = { reading, others };
    return true;
  };
  const fits = await judgeByProfile<Promise<boolean>>(
    profile,
    (given) => judge(neighbours, given),
    async (found) => judge(readNeighbours(path, found), found),
  );
  if (fits && judged && collectors) await assertNoCollectorName(path, judged.reading, judged.others, collectors);
  return fits;
}

/**
 * Refuse a family that no *.prom file of the directory has yet (the other
 * files, the target as it is) when node_exporter's own collectors export its
 * name: the collector's and the file's collide at every scrape.
 */
async function assertNoCollectorName(path: string, reading: TargetReading, others: Neighbours, collectors: CollectorNames): Promise<void> {
  const namesOf = (family: MetricFamily): string[] => [family.name, ...new Set(family.samples.map((sample) => sample.name))];
  let fresh = reading.families.filter((family) => !others.names.has(family.name));
  const notCurrent = async (): Promise<void> => {
    const before = typeof reading.before === 'function' ? await reading.before() : reading.before;
    const current = new Set((before ?? []).map((family) => family.name));
    fresh = fresh.filter((family) => !current.has(family.name));
  };
  // The target's families in memory: they spare a scrape. Read from disk (a streamed write), they could be a
  // large file: asked for only when a name clashes (a 1M-series rewrite held 150 MB reading them first).
  const inMemory = typeof reading.before !== 'function';
  if (inMemory) await notCurrent();
  if (fresh.length === 0) return;
  const found = await collectors();
  if (!found) return;
  fresh = fresh.filter((family) => namesOf(family).some((name) => found.names.has(name)));
  if (!inMemory && fresh.length > 0) await notCurrent();
  const clash = fresh.flatMap(namesOf).find((name) => found.names.has(name));
  if (clash === undefined) return;
  throw new InputError(
    'ERR_DIRECTORY_CONFLICT',
    `${path}: metric "${clash}" is also exported by node_exporter's own collectors (${found.source}): one of the two is dropped at every scrape; rename it (rule node-collision; nothing written)`,
  );
}

/** The target's current families; read only when needed (a function), since that can mean reading a large file. */
export type FamiliesBefore = readonly MetricFamily[] | undefined | (() => Promise<readonly MetricFamily[] | undefined>);

/**
 * Refuse `families` as the new content of `path` when node_exporter's merge
 * with the other files would drop any of them, or would newly drop a series
 * of another file because of them (`before`: the file's current families).
 */
export async function assertFitsDirectory(
  path: string,
  families: readonly MetricFamily[],
  neighbours: Neighbours,
  before: FamiliesBefore,
  profile?: Profile,
): Promise<void> {
  const after = mergeProblems(withTarget(neighbours, path, families), profile).filter((problem) => problem.severity === 'error');
  let refused = after.find((problem) => problem.file === path);
  const hurt = after.filter((problem) => problem.other === path);
  if (refused === undefined && hurt.length > 0) {
    const current = typeof before === 'function' ? await before() : before;
    const existing = new Set(mergeProblems(withTarget(neighbours, path, current), profile).map(key));
    refused = hurt.find((problem) => !existing.has(key(problem)));
  }
  if (!refused) return;
  const where = refused.file === path ? '' : `it would make node_exporter drop from ${basename(refused.file)}: `;
  throw new InputError(
    'ERR_DIRECTORY_CONFLICT',
    `${path}: ${where}${refused.message} (rule ${refused.rule}, checked against the other *.prom files of ${dirname(path)}; nothing written)`,
  );
}
