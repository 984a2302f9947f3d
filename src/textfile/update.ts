// Locked read-modify-write of one textfile: the operation every command and
// the library share, so none of them can lose another's update.
import { errnoOf, ExpositionError, InputError, PromfileError } from '../errors.js';
import type { Stats } from 'node:fs';
import { lstat, unlink } from 'node:fs/promises';
import { lockPathFor } from './lock.js';
import { withLockedTarget, type LockedTarget, type PipelineOptions, type Reading } from './pipeline.js';
import { parseExposition } from '../format/parse.js';
import { relatedNames, scanFile, spliceChunks, splitFile } from '../format/fast-file.js';
import { renderChunks, renderExposition } from '../format/render.js';
import { assertRemovable, readTextfile, removeTextfile, writeContent } from './files.js';
import type { MetricFamily, Problem } from '../format/types.js';
import { assertWritable } from '../format/validate.js';
import { compareNames } from '../format/names.js';
import { escapeFamilies, type NameEscaping } from '../format/name-escaping.js';
import { checkAgainstDirectory, type Neighbours } from './neighbours.js';

export interface UpdateOptions extends PipelineOptions {
  /** Ignore the current content (it may even be invalid) and start from nothing. */
  readonly replace?: boolean;
  /** Write a file with no samples. Default false: empty output is refused. */
  readonly allowEmpty?: boolean;
  /**
   * The new families come straight from parseExposition, which validated
   * them already: skip the second pass (a tenth of a large write).
   */
  readonly prevalidated?: boolean;
  /**
   * The metric names the change reads or changes. Given, the existing file is
   * checked as bytes, and only those families (with the histograms and
   * summaries such names belong to) are parsed and handed to the change; the
   * others are copied as they are. The change must leave alone any family it
   * was not given. The result's `families` are then read back from the new
   * text when first asked for (so a histogram's samples come in written order).
   */
  readonly touches?: readonly string[];
  /**
   * Rewrite non-legacy metric and label names of the new families (which
   * every released node_exporter refuses) by this Prometheus escaping scheme.
   */
  readonly escapeNames?: NameEscaping;
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
const NO_NEIGHBOURS: Neighbours = { names: new Set(), filesFor: () => [], helpOf: () => undefined, unread: [], changed: () => false };

/**
 * Under the target's lock: read the current families, compute the new ones,
 * validate, render and replace the file atomically, through the one write
 * pipeline (pipeline.ts): the directory pinned, every step through its descriptor.
 */
export async function updateTextfile(path: string, given: Change, options: UpdateOptions = {}): Promise<UpdateResult> {
  const scheme = options.escapeNames;
  const change: Change = scheme === undefined ? given : async (current, others) => escapeFamilies(await given(current, others), scheme);
  return withLockedTarget(path, options, async (target) => {
    const scanned = options.touches && !options.replace ? await updateByScan(target, path, change, options) : undefined;
    if (scanned) return scanned;
    const { at, neighbours } = target;
    const existing = options.replace && !neighbours ? undefined : await readExisting(at, path, options.replace === true);
    const current = options.replace ? [] : (existing ?? []);
    const families = await change(current, neighbours ?? NO_NEIGHBOURS);
    const warnings = options.prevalidated ? [] : assertWritable(families.filter((family) => family.samples.length > 0));
    const reading: Reading = () => ({ families, before: existing });
    if (neighbours) await checkAgainstDirectory(at, neighbours, options.profile, reading, options.collectorNames);
    assertNotEmpty(families, options.allowEmpty);
    // Rendered family by family into the temp file: a large file is never held twice in memory.
    await target.commit(async (handle) => {
      await writeContent(handle, renderChunks(families));
      return reading;
    });
    const content = options.dryRun ? { content: renderExposition(families) } : {};
    return { path, families, ...content, written: !options.dryRun, warnings: [...warnings, ...(neighbours?.unread ?? [])] };
  });
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
async function updateByScan(target: LockedTarget, path: string, change: Change, options: UpdateOptions): Promise<UpdateResult | undefined> {
  const { at, neighbours } = target;
  const bytes = await readTextfile(at);
  const blocks = bytes === undefined ? undefined : scanFile(bytes)?.blocks;
  if (blocks === undefined) return undefined;
  const { parsed, copied } = splitFile(blocks, new Set([...relatedNames(options.touches ?? []), ...(neighbours?.names ?? [])]));
  const families = await change(parsed, neighbours ?? NO_NEIGHBOURS);
  if (families.some((family) => copied.has(family.name))) return undefined;
  const stubs = [...copied.values()].map((entry) => entry.stub);
  const warnings = options.prevalidated ? [] : assertWritable(withSamples(families), undefined, stubs);
  const byName = (list: MetricFamily[]): MetricFamily[] => list.sort((a, b) => compareNames(a.name, b.name));
  const reading = { families: byName([...families, ...stubs]), before: byName([...parsed, ...stubs]) };
  // Other files read under a found profile may name a family kept as bytes: then only the strict path can judge.
  const judged: Reading = (others) => ([...others.names].some((name) => copied.has(name)) ? undefined : reading);
  if (neighbours && !(await checkAgainstDirectory(at, neighbours, options.profile, judged, options.collectorNames))) return undefined;
  if (copied.size === 0) assertNotEmpty(families, options.allowEmpty);
  const chunks = [...spliceChunks(families, copied)];
  const text = (): Buffer => Buffer.concat(chunks.map((chunk) => (typeof chunk === 'string' ? Buffer.from(chunk) : chunk)));
  await target.commit(async (handle) => {
    await writeContent(handle, chunks);
    return judged;
  });
  let readBack: MetricFamily[] | undefined;
  return {
    path,
    ...(options.dryRun ? { content: text().toString('utf8') } : {}),
    written: !options.dryRun,
    warnings: [...warnings, ...(neighbours?.unread ?? [])],
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
 * A dry run takes every step but the removal.
 */
export async function deleteTextfile(
  path: string,
  options: UpdateOptions = {},
  stillWanted: (info: Stats) => boolean = () => false,
): Promise<boolean> {
  try {
    return await withLockedTarget(path, { ...options, mkdir: false, dirCheck: false }, async ({ at }) => {
      const info = await lstat(at).catch(() => undefined);
      if (!info || stillWanted(info)) return false;
      if (options.dryRun) return assertRemovable(at, info);
      const existed = await removeTextfile(at);
      // Its lock goes too, removed while held: a waiter that opened it sees it is gone and opens a new one.
      await unlink(lockPathFor(at)).catch(() => undefined);
      return existed;
    });
  } catch (error) {
    if ((error instanceof PromfileError && error.code === 'ERR_DIR_MISSING') || errnoOf(error) === 'ENOENT') return false;
    throw error;
  }
}
