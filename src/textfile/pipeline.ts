// The one write pipeline. Every writer (set, inc, observe, unset, rm, run,
// write from stdin or from a command, and the library's writeTextfile,
// updateTextfile, writeRegistry) goes through the same steps, in this order:
//
//   pin the directory (pin.ts) → lock the target → read the other *.prom files
//   → the writer validates and fills a temp file → judge the directory again if
//   another file changed meanwhile → rename → fsync the directory.
//
// Writers that only take away (unset, rm) skip reading the other files:
// removing series cannot make node_exporter drop more, and a file already
// in conflict must stay fixable. A dry run takes every step but the rename (the temp file is removed), so
// its exit status and message are those of the real run. Each step reaches
// the directory only through the pinned descriptor: the target, its lock,
// its temp file and the other files alike.
import { basename, dirname } from 'node:path';
import { lstat, unlink, type FileHandle } from 'node:fs/promises';
import { InputError } from '../errors.js';
import type { Profile, ProfileChoice } from '../format/profile.js';
import { replaceFileAtomically, type WriteOptions } from './files.js';
import { lockPathFor, withLock } from './lock.js';
import { checkAgainstDirectory, readNeighbours, type CollectorNames, type Neighbours, type TargetReading } from './neighbours.js';
import { pinDirectory, type PinOptions } from './pin.js';

export interface PipelineOptions extends WriteOptions, PinOptions {
  /** Lock wait in milliseconds. */
  readonly lockTimeoutMs?: number | undefined;
  /** Every step but the rename. */
  readonly dryRun?: boolean | undefined;
  /** Refuse what node_exporter's merge with the directory's other *.prom files would drop. Default true. */
  readonly dirCheck?: boolean | undefined;
  /** The node_exporter versions to judge by; a function finds them only when the strictest rules refuse. */
  readonly profile?: ProfileChoice | undefined;
  /**
   * The names the running node_exporter's own collectors export (asked only
   * when a family new to the directory is written): such a family is refused.
   */
  readonly collectorNames?: CollectorNames | undefined;
}

/** How the directory check reads the new content, under each reading of the other files. */
export type Reading = (others: Neighbours, profile: Profile | undefined) => TargetReading | undefined;

/** The target, pinned and locked, for one writer. */
export interface LockedTarget {
  /** Where the target is reached: through the pinned directory's descriptor. */
  readonly at: string;
  /** The other *.prom files as read under the lock; undefined when the directory check is off. */
  readonly neighbours: Neighbours | undefined;
  /**
   * Fill a new temp file (`fill` validates as it writes and returns how the
   * directory check reads the result), judge the directory again if it
   * changed, and rename the temp file over the target (not in a dry run).
   */
  commit(fill: (handle: FileHandle) => Promise<Reading>): Promise<void>;
}

/** Run `write` with the target pinned and locked; errors name the directory as given. */
export async function withLockedTarget<T>(path: string, options: PipelineOptions, write: (target: LockedTarget) => Promise<T>): Promise<T> {
  return inPinnedDirectory(path, options, async (at) => {
    // A dry run leaves the directory as it found it: a lock file it made goes again (removed while held, as rm does).
    const madeLock = options.dryRun === true && (await lstat(lockPathFor(at)).catch(() => undefined)) === undefined;
    return withLock(
      at,
      async () => {
        try {
          const neighbours = options.dirCheck === false ? undefined : readNeighbours(at, givenProfile(options.profile));
          return await write({ at, neighbours, commit: (fill) => commit(at, neighbours, options, fill) });
        } finally {
          if (madeLock) await unlink(lockPathFor(at)).catch(() => undefined);
        }
      },
      lockOptions(options),
    );
  });
}

async function commit(
  at: string,
  neighbours: Neighbours | undefined,
  options: PipelineOptions,
  fill: (handle: FileHandle) => Promise<Reading>,
): Promise<void> {
  let reading: Reading | undefined;
  await replaceFileAtomically(
    at,
    {
      ...options,
      mkdir: false,
      dryRun: options.dryRun === true,
      beforeRename: () => (neighbours && reading ? recheck(at, neighbours, options, reading) : Promise.resolve()),
    },
    async (handle) => {
      reading = await fill(handle);
    },
  );
}

/**
 * The other files were judged as they were when read; one rewritten since
 * (another HELP, a new family) is judged as it is now, right before the rename.
 */
async function recheck(at: string, neighbours: Neighbours, options: PipelineOptions, reading: Reading): Promise<void> {
  if (!neighbours.changed()) return;
  const { profile, collectorNames } = options;
  if (!(await checkAgainstDirectory(at, readNeighbours(at, givenProfile(profile)), profile, reading, collectorNames)))
    throw new InputError(
      'ERR_DIRECTORY_CONFLICT',
      `${at}: another *.prom file of ${dirname(at)} changed while promfile wrote, in a way only a new run can judge; nothing written (run again)`,
    );
}

/** The profile given outright; undefined (the strictest rules) for one found on demand. */
export function givenProfile(profile: ProfileChoice | undefined): Profile | undefined {
  return typeof profile === 'function' ? undefined : profile;
}

export function lockOptions(options: { readonly lockTimeoutMs?: number | undefined }): { timeoutMs?: number } {
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
