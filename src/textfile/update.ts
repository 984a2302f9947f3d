// Locked read-modify-write of one textfile: the operation every command and
// the library share, so none of them can lose another's update.
import { dirname } from 'node:path';
import { ExpositionError, InputError } from '../errors.js';
import { withLock } from './lock.js';
import { parseExposition } from '../format/parse.js';
import { renderChunks, renderExposition } from '../format/render.js';
import { prepareDirectory, readTextfile, writeFileAtomically, type WriteOptions } from './files.js';
import type { MetricFamily, Problem } from '../format/types.js';
import { validateFamilies, validateFamily } from '../format/validate.js';

export interface UpdateOptions extends WriteOptions {
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
}

export interface UpdateResult {
  readonly path: string;
  readonly families: MetricFamily[];
  /** The rendered file, for a dry run (a real write streams it to disk instead). */
  readonly content?: string;
  readonly written: boolean;
}

/** Read the families of an existing file; invalid content is an error naming the file. */
export async function readFamilies(path: string): Promise<MetricFamily[] | undefined> {
  const bytes = await readTextfile(path);
  if (bytes === undefined) return undefined;
  try {
    return parseExposition(bytes, { source: path });
  } catch (error) {
    if (error instanceof ExpositionError) {
      throw new ExpositionError(
        {
          ...error.problem,
          message: `${error.problem.message} (the existing file is invalid)`,
        },
        path,
        'ERR_INVALID_FILE',
      );
    }
    throw error;
  }
}

/** Refuse a model node_exporter would not take whole. */
export function assertWritable(families: readonly MetricFamily[], source?: string): void {
  const problems: Problem[] = [...families.flatMap((family) => validateFamily(family)), ...validateFamilies(families)];
  const blocking = problems.find((problem) => problem.severity !== 'notice' || problem.rule === 'empty-family');
  if (blocking) {
    const { severity, rule, message } = blocking;
    throw new ExpositionError({ severity, rule, message }, source);
  }
}

/**
 * Under the target's lock: read the current families, compute the new ones,
 * validate, render and replace the file atomically.
 */
export async function updateTextfile(
  path: string,
  change: (current: MetricFamily[]) => MetricFamily[] | Promise<MetricFamily[]>,
  options: UpdateOptions = {},
): Promise<UpdateResult> {
  const run = async (): Promise<UpdateResult> => {
    const current = options.replace ? [] : ((await readFamilies(path)) ?? []);
    const families = await change(current);
    if (!options.prevalidated) assertWritable(families.filter((family) => family.samples.length > 0));
    if (!options.allowEmpty && families.every((family) => family.samples.length === 0)) {
      throw new InputError('ERR_EMPTY_INPUT', 'nothing to write: no samples (allowEmpty writes an empty file)');
    }
    if (options.dryRun) return { path, families, content: renderExposition(families), written: false };
    // Rendered family by family into the temp file: a large file is never held twice in memory.
    await writeFileAtomically(path, renderChunks(families), options);
    return { path, families, written: true };
  };
  if (options.dryRun) return run();
  // The lock lives in the directory, so the directory must be there first.
  await prepareDirectory(dirname(path), options.mkdir);
  return withLock(path, run, options.lockTimeoutMs === undefined ? {} : { timeoutMs: options.lockTimeoutMs });
}
