// A textfile among the other *.prom files of its directory: before a write,
// the new content goes through node_exporter's merge (format/merge.ts) with
// them, and what the merge would drop is refused. Costs one read of the
// directory per write (bench/neighbours.js measures it).
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../errors.js';
import { mergeProblems, type MergeFile, type MergeProblem } from '../format/merge.js';
import { familyStub, parseBlock, scanFile } from '../format/fast-file.js';
import type { FastBlock } from '../format/fast-scan.js';
import { readExposition } from '../format/parse.js';
import { compareNames } from '../format/names.js';
import type { Profile } from '../format/profile.js';
import type { MetricFamily } from '../format/types.js';
import { readRegularFileSync } from './files.js';

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
    [...blocks].map(([name, block]) => (wanted.has(name) && family(name)) || familyStub(name, block));
  return {
    path,
    names: [...blocks.keys()],
    family,
    asMerged: (wanted) => ({ path, families: merged(wanted).sort((a, b) => compareNames(a.name, b.name)) }),
  };
}

/** Read the other *.prom files of `path`'s directory; a file that vanishes or cannot be read is skipped. */
export async function readNeighbours(path: string, profile?: Profile): Promise<Neighbours> {
  const dir = dirname(path);
  const entries = (await readdir(dir).catch(() => [] as string[])).filter((name) => name.endsWith('.prom')).sort(compareNames);
  const files: OtherFile[] = [];
  for (const entry of entries) {
    const other = join(dir, entry);
    if (other === path) continue;
    // Never blocks: a FIFO named *.prom is skipped like a directory, a file gone or unreadable (`check` reports them).
    const bytes = readOrSkip(other);
    if (bytes === undefined) continue;
    const read = profile ? { profile } : {};
    const scanned = scanFile(bytes, read);
    if (scanned !== undefined) {
      files.push(scannedFile(other, scanned.blocks));
      continue;
    }
    const { families, problems } = readExposition(bytes, read);
    if (!problems.some((problem) => problem.wholeFile && problem.severity === 'error')) files.push(parsedFile(other, families));
  }
  const names = new Set(files.flatMap((file) => file.names));
  return {
    names,
    filesFor: (wanted) => files.map((file) => file.asMerged(wanted)),
    helpOf: (name) => (names.has(name) ? files.map((file) => file.family(name)?.help).find((help) => help) : undefined),
  };
}

function readOrSkip(path: string): Uint8Array | undefined {
  try {
    return readRegularFileSync(path, { follow: true });
  } catch {
    return undefined;
  }
}

/** Every family name of the other files. */
export function namesIn(neighbours: Neighbours): ReadonlySet<string> {
  return neighbours.names;
}

/** The directory with `path` holding `families` (or absent, for undefined), in node_exporter's order. */
function withTarget(neighbours: Neighbours, path: string, families: readonly MetricFamily[] | undefined): MergeFile[] {
  // The other files' families that share a name with the target's are read in full; the rest are stubs.
  const files = neighbours.filesFor(new Set(families?.map((family) => family.name)));
  if (families !== undefined) files.push({ path, families });
  return files.sort((a, b) => compareNames(basename(a.path), basename(b.path)));
}

const key = (problem: MergeProblem): string => `${problem.file}\u0000${problem.rule}\u0000${problem.message}`;

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
