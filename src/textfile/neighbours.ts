// A textfile among the other *.prom files of its directory: before a write,
// the new content goes through node_exporter's merge (format/merge.ts) with
// them, and what the merge would drop is refused. Costs one read of the
// directory per write (bench/neighbours.js measures it).
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../errors.js';
import { mergeProblems, type MergeFile, type MergeProblem } from '../format/merge.js';
import { readExposition } from '../format/parse.js';
import { compareNames } from '../format/names.js';
import type { Profile } from '../format/profile.js';
import type { MetricFamily } from '../format/types.js';
import { readRegularFileSync } from './files.js';

/** The other *.prom files of a textfile's directory, as node_exporter reads them. */
export interface Neighbours {
  /** Every *.prom file but the target, in node_exporter's order; files it rejects whole are left out. */
  readonly files: readonly MergeFile[];
  /** The HELP a metric has in the first file that defines it (what node_exporter keeps), if any. */
  helpOf(name: string): string | undefined;
}

/** Read the other *.prom files of `path`'s directory; a file that vanishes or cannot be read is skipped. */
export async function readNeighbours(path: string, profile?: Profile): Promise<Neighbours> {
  const dir = dirname(path);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((name) => name.endsWith('.prom')).sort(compareNames);
  const files: MergeFile[] = [];
  for (const name of names) {
    const other = join(dir, name);
    if (other === path) continue;
    // Never blocks: a FIFO named *.prom is skipped like a directory, a file gone or unreadable (`check` reports them).
    const bytes = readOrSkip(other);
    if (bytes === undefined) continue;
    const { families, problems } = readExposition(bytes, profile ? { profile } : {});
    if (!problems.some((problem) => problem.wholeFile && problem.severity === 'error')) files.push({ path: other, families });
  }
  const help = new Map<string, string>();
  for (const file of files)
    for (const family of file.families) if (family.help && !help.has(family.name)) help.set(family.name, family.help);
  return { files, helpOf: (name) => help.get(name) };
}

function readOrSkip(path: string): Uint8Array | undefined {
  try {
    return readRegularFileSync(path, { follow: true });
  } catch {
    return undefined;
  }
}

/** Every family name of the other files. */
export function namesIn(neighbours: Neighbours): Set<string> {
  return new Set(neighbours.files.flatMap((file) => file.families.map((family) => family.name)));
}

/** The directory with `path` holding `families` (or absent, for undefined), in node_exporter's order. */
function withTarget(neighbours: Neighbours, path: string, families: readonly MetricFamily[] | undefined): MergeFile[] {
  const files = [...neighbours.files];
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
