// gc's deletion policy: what in a textfile directory is garbage, and how to
// remove it without cutting off a writer. Judged from lstat alone: gc opens
// nothing that can block.
import { IoError, PromfileError, errnoOf, messageOf } from '../errors.js';
import { listDirectory, type DirectoryEntry } from '../textfile/inventory.js';
import { isLockHeld, removeLockIfFree } from '../textfile/lock.js';
import { pausePoint } from '../textfile/pause.js';
import { removeTextfile } from '../textfile/files.js';
import { deleteTextfile } from '../textfile/update.js';
import { pinDirectory } from '../textfile/pin.js';
import { join } from 'node:path';
import { TEMP_GRACE_MS } from './check.js';

/** Why an entry is garbage: a writer's leftover temp file, an old lock file, a .prom not rewritten for too long. */
export type GarbageReason = 'temp' | 'lock' | 'stale';

export interface GcOptions {
  /** Milliseconds since the epoch. */
  readonly now: number;
  /** Delete .prom files not rewritten for this long; undefined: only temp and lock leftovers go. */
  readonly olderThanMs?: number;
  /** Delete nothing; lock files are still probed, so a held one is not listed. */
  readonly dryRun?: boolean;
}

/** The directory's entries; a missing directory is ERR_DIR_MISSING, naming how to choose another. */
export async function listTextfileDirectory(dir: string): Promise<DirectoryEntry[]> {
  try {
    return await listDirectory(dir);
  } catch (error) {
    throw listingError(dir, error);
  }
}

/** Why `dir` cannot be listed, in gc's and ls's terms. */
function listingError(dir: string, error: unknown): IoError {
  const code = errnoOf(error instanceof PromfileError && error.cause !== undefined ? error.cause : error);
  if (code === 'ENOENT')
    return new IoError('ERR_DIR_MISSING', `textfile directory ${dir} does not exist (choose one with --dir or PROMFILE_DIR)`, {
      cause: error,
    });
  return new IoError('ERR_READ_FAILED', `cannot list ${dir}: ${code ?? messageOf(error)}`, { cause: error });
}

/**
 * Delete the directory's garbage (with `dryRun`, only say what would go),
 * yielding each path as it is deleted; an entry found in use is kept.
 */
export async function* collectGarbage(dir: string, options: GcOptions): AsyncGenerator<string> {
  // Listed and removed through the pinned directory: a link swapped in for it (or above it) makes root delete nothing elsewhere.
  const pinned = await pinDirectory(dir).catch((error: unknown) => {
    throw error instanceof PromfileError && error.code === 'ERR_UNSAFE_TARGET' ? error : listingError(dir, error);
  });
  try {
    for (const entry of await listTextfileDirectory(pinned.at('.'))) {
      const reason = garbageReason(entry, options.now, options.olderThanMs);
      if (reason === undefined) continue;
      const shown = join(dir, entry.name);
      if ((!options.dryRun || reason === 'lock') && !(await removeGarbage(entry, shown, reason, options))) continue;
      yield shown;
    }
  } catch (error) {
    throw pinned.relabel(error);
  } finally {
    await pinned.close();
  }
}

/** Why gc deletes this entry, or undefined to keep it. */
export function garbageReason(entry: DirectoryEntry, now: number, olderThanMs: number | undefined): GarbageReason | undefined {
  if (entry.symlink) return undefined; // a link is configuration, not output
  const age = now - entry.link.mtimeMs;
  if (entry.kind === 'temp') return age > TEMP_GRACE_MS ? 'temp' : undefined;
  // A lock file nobody holds is harmless; an old one is tidied away, a held one never (removeGarbage probes).
  if (entry.kind === 'lock') return entry.link.isFile() && age > TEMP_GRACE_MS ? 'lock' : undefined;
  if (entry.kind === 'textfile' && olderThanMs !== undefined && entry.link.isFile() && age > olderThanMs) return 'stale';
  return undefined;
}

/** Remove one piece of garbage; false when it turned out to be in use. A dry run only probes locks. */
async function removeGarbage(entry: DirectoryEntry, shown: string, reason: GarbageReason, options: GcOptions): Promise<boolean> {
  pausePoint('gc-judged');
  if (reason === 'lock') {
    // Taken before it is removed, so a writer holding it (or about to) is never cut off.
    if (options.dryRun) return !(await isLockHeld(entry.path).catch(() => true));
    return removeLockIfFree(entry.path).catch(() => false);
  }
  // deleteTextfile pins the directory again, walking the path as given: a swap since our pin is refused there.
  if (reason === 'stale') return removeIfStillStale(shown, options.now, options.olderThanMs ?? Infinity);
  return removeTextfile(entry.path);
}

/** Delete a stale .prom under its lock, unless a writer rewrote it meanwhile. */
async function removeIfStillStale(path: string, now: number, olderThanMs: number): Promise<boolean> {
  try {
    return await deleteTextfile(path, { lockTimeoutMs: 0 }, (info) => now - info.mtimeMs <= olderThanMs);
  } catch (error) {
    if (error instanceof PromfileError && error.code === 'ERR_LOCK_BUSY') return false; // being written: not stale
    throw error;
  }
}
