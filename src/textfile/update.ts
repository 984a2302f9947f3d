// Locked read-modify-write of one textfile: the operation every command and
// the library share, so none of them can lose another's update.
import { basename, dirname } from 'node:path';
import { errnoOf, ExpositionError, InputError, PromfileError } from '../errors.js';
import type { Stats } from 'node:fs';
import { lstat, unlink } from 'node:fs/promises';
import { lockPathFor, withLock } from './lock.js';
import { pinDirectory, type PinOptions } from './pin.js';
import { parseExposition } from '../format/parse.js';
import { relatedNames, scanFile, spliceChunks, splitFile } from '../format/fast-file.js';
import { renderChunks, renderExposition } from '../format/render.js';
import { readTextfile, removeTextfile, writeFileAtomically, type WriteOptions } from './files.js';
import type { ProfileChoice } from '../format/profile.js';
import type { MetricFamily, Problem } from '../format/types.js';
import { assertWritable } from '../format/validate.js';
import { compareNames } from '../format/names.js';
import { checkAgainstDirectory, readNeighbours, type Neighbours } from './neighbours.js';

export interface UpdateOptions extends WriteOptions, PinOptions {
  /** Lock wait in milliseconds. */
  readonly lockTimeoutMs?: number;
  /** Ignore the current content (it may even be invalid) and start from nothing. */
  readonly replace?: boolean;
  /** Write a file with no samples. Default false: empty output is refused. */
  readonly allowEmpty?: boolean;
  /** Render and validate, but write nothing. */
  readonly dryRun?: boolean;
  /**
   * The new families come straight from parseExposition, which validated
   * them already: skip the second pass (a tenth of a large write).
   */
  readonly prevalidated?: boolean;
  /**
   * The node_exporter versions whose rules apply; default all known versions.
   * A function is called only when the rules of all known versions refuse
   * the directory (finding the running node_exporter's version has a cost).
   */
  readonly profile?: ProfileChoice;
  /**
   * Check the new file against the other *.prom files of its directory, and
   * refuse what node_exporter's merge would drop. Default true.
   */
  readonly dirCheck?: boolean;
  /**
   * The metric names the change reads or changes. Given, the existing file is
   * checked as bytes, and only those families (with the histograms and
   * summaries such names belong to) are parsed and handed to the change; the
   * others are copied as they are. The change must leave alone any family it
   * was not given. The result's `families` are then read back from the new
   * text when first asked for (so a histogram's samples come in written order).
   */
  readonly touches?: readonly string[];
}

export interface UpdateResult {
  readonly path: string;
  readonly families: MetricFamily[];
  /** The rendered file, for a dry run (a real write streams it to disk instead). */
  readonly content?: string;
  readonly written: boolean;
  /** What node_exporter exposes as given but is worth saying (e.g. a negative counter). */
  readonly warnings: Problem[];
}

/** Read the families of an existing file; invalid content is an error naming the file. */
export async function readFamilies(path: string, shownAs = path): Promise<MetricFamily[] | undefined> {
  const bytes = await readTextfile(path);
  if (bytes === undefined) return undefined;
  try {
    return parseExposition(bytes, { source: shownAs });
  } catch (error) {
    if (error instanceof ExpositionError) {
      throw new ExpositionError(
        {
          ...error.problem,
          message: `${error.problem.message} (the existing file is invalid)`,
        },
        shownAs,
        'ERR_INVALID_FILE',
      );
    }
    throw error;
  }
}

/**
 * The current families, for a change or for the directory check; a file being
 * replaced may be invalid, and then counts as absent.
 */
async function readExisting(at: string, path: string, replacing: boolean): Promise<MetricFamily[] | undefined> {
  if (!replacing) return readFamilies(at, path);
  return readFamilies(at, path).catch((error: unknown) => {
    if (error instanceof ExpositionError) return undefined;
    throw error;
  });
}

function assertNotEmpty(families: readonly MetricFamily[], allowEmpty: boolean | undefined): void {
  if (!allowEmpty && families.every((family) => family.samples.length === 0)) {
    throw new InputError('ERR_EMPTY_INPUT', 'nothing to write: no samples (allowEmpty writes an empty file)');
  }
}

type Change = (current: MetricFamily[], neighbours: Neighbours) => MetricFamily[] | Promise<MetricFamily[]>;

/** No other files: what a change sees with the directory check off. */
const NO_NEIGHBOURS: Neighbours = { names: new Set(), filesFor: () => [], helpOf: () => undefined };

/**
 * Under the target's lock: read the current families, compute the new ones,
 * validate, render and replace the file atomically. The directory is pinned
 * first (pin.ts): every step goes through its descriptor, never its name.
 */
export async function updateTextfile(path: string, change: Change, options: UpdateOptions = {}): Promise<UpdateResult> {
  const dirCheck = options.dirCheck !== false;
  const run = async (at: string): Promise<UpdateResult> => {
    const scanned = options.touches && !options.replace ? await updateByScan(at, path, change, options) : undefined;
    if (scanned) return scanned;
    const existing = options.replace && !dirCheck ? undefined : await readExisting(at, path, options.replace === true);
    const current = options.replace ? [] : (existing ?? []);
    const given = typeof options.profile === 'function' ? undefined : options.profile;
    const neighbours = dirCheck ? await readNeighbours(path, given) : NO_NEIGHBOURS;
    const families = await change(current, neighbours);
    const warnings = options.prevalidated ? [] : assertWritable(families.filter((family) => family.samples.length > 0));
    if (dirCheck) await checkAgainstDirectory(path, neighbours, options.profile, () => ({ families, before: existing }));
    assertNotEmpty(families, options.allowEmpty);
    if (options.dryRun) return { path, families, content: renderExposition(families), written: false, warnings };
    // Rendered family by family into the temp file: a large file is never held twice in memory.
    await writeFileAtomically(at, renderChunks(families), { ...options, mkdir: false });
    return { path, families, written: true, warnings };
  };
  if (options.dryRun) return run(path);
  return inPinnedDirectory(path, options, (at) => withLock(at, () => run(at), lockOptions(options)));
}

/**
 * updateTextfile's work for a change that names the families it touches:
 * the existing file is checked as bytes by the fast scanner, only the named
 * families are parsed, the rest is copied. Every rule still applies: the
 * copied families passed the scanner, and take part in the rules across
 * families and files by name and type; a family that shares its name with
 * another file's is parsed, since the merge compares its series. Undefined
 * when only the strict path can decide (the scanner does not vouch for the
 * file, or the change reached beyond what it named).
 */
async function updateByScan(at: string, path: string, change: Change, options: UpdateOptions): Promise<UpdateResult | undefined> {
  const bytes = await readTextfile(at);
  const blocks = bytes === undefined ? undefined : scanFile(bytes)?.blocks;
  if (blocks === undefined) return undefined;
  const dirCheck = options.dirCheck !== false;
  const neighbours = dirCheck
    ? await readNeighbours(path, typeof options.profile === 'function' ? undefined : options.profile)
    : NO_NEIGHBOURS;
  const { parsed, copied } = splitFile(blocks, new Set([...relatedNames(options.touches ?? []), ...neighbours.names]));
  const families = await change(parsed, neighbours);
  if (families.some((family) => copied.has(family.name))) return undefined;
  const stubs = [...copied.values()].map((entry) => entry.stub);
  const warnings = options.prevalidated ? [] : assertWritable(withSamples(families), undefined, stubs);
  const byName = (list: MetricFamily[]): MetricFamily[] => list.sort((a, b) => compareNames(a.name, b.name));
  const reading = { families: byName([...families, ...stubs]), before: byName([...parsed, ...stubs]) };
  // Other files read under a found profile may name a family kept as bytes: then only the strict path can judge.
  const target = (others: Neighbours) => ([...others.names].some((name) => copied.has(name)) ? undefined : reading);
  if (dirCheck && !(await checkAgainstDirectory(path, neighbours, options.profile, target))) return undefined;
  if (copied.size === 0) assertNotEmpty(families, options.allowEmpty);
  const chunks = [...spliceChunks(families, copied)];
  const text = (): Buffer => Buffer.concat(chunks.map((chunk) => (typeof chunk === 'string' ? Buffer.from(chunk) : chunk)));
  const content = options.dryRun ? text().toString('utf8') : undefined;
  if (!options.dryRun) await writeFileAtomically(at, chunks, { ...options, mkdir: false });
  let readBack: MetricFamily[] | undefined;
  return {
    path,
    ...(content === undefined ? {} : { content }),
    written: !options.dryRun,
    warnings,
    // What the strict path returns, read back from the new text (only a JSON report asks).
    get families(): MetricFamily[] {
      return (readBack ??= parseExposition(text()));
    },
  };
}

function withSamples(families: readonly MetricFamily[]): MetricFamily[] {
  return families.filter((family) => family.samples.length > 0);
}

/**
 * Delete the file (and its lock file) under its lock; false when it (or its
 * directory) did not exist, or `stillWanted` says, under the lock, to keep it.
 */
export async function deleteTextfile(
  path: string,
  options: UpdateOptions = {},
  stillWanted: (info: Stats) => boolean = () => false,
): Promise<boolean> {
  try {
    return await inPinnedDirectory(path, { ...options, mkdir: false }, (at) =>
      withLock(
        at,
        async () => {
          const info = await lstat(at).catch(() => undefined);
          if (!info || stillWanted(info)) return false;
          const existed = await removeTextfile(at);
          // Its lock goes too, removed while held: a waiter that opened it sees it is gone and opens a new one.
          await unlink(lockPathFor(at)).catch(() => undefined);
          return existed;
        },
        lockOptions(options),
      ),
    );
  } catch (error) {
    if ((error instanceof PromfileError && error.code === 'ERR_DIR_MISSING') || errnoOf(error) === 'ENOENT') return false;
    throw error;
  }
}

function lockOptions(options: UpdateOptions): { timeoutMs?: number } {
  return options.lockTimeoutMs === undefined ? {} : { timeoutMs: options.lockTimeoutMs };
}

/** Run `fn` with the target's path inside its pinned directory; errors name the real path. */
export async function inPinnedDirectory<T>(path: string, options: PinOptions, fn: (at: string) => Promise<T>): Promise<T> {
  const pinned = await pinDirectory(dirname(path), options);
  try {
    return await fn(pinned.at(basename(path)));
  } catch (error) {
    throw pinned.relabel(error);
  } finally {
    await pinned.close();
  }
}
