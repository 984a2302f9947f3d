// The private directory of a run's $PROMFILE_METRICS file: made with mkdtemp
// (mode 0700, a name nobody can guess), and removed by this run alone, which
// removes only what it made. There is no sweep of directories that other runs
// left: a pid in a name cannot say a run is dead (a run in another PID
// namespace sharing $TMPDIR has pids this one cannot see), and a removal by
// path in a directory others can write can be steered by a link they swap in
// (issue 20). A promfile killed with SIGKILL leaves its directory to the
// system's tmp cleaner.
import { constants } from 'node:fs';
import { lstat, mkdtemp, open, rmdir, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoOf, messageOf } from '../errors.js';

const PREFIX = 'promfile-run-';
/** The one name handed to the job. */
const FILE = 'metrics.prom';

export interface Scratch {
  readonly dir: string;
  /** `<dir>/metrics.prom`, the job's $PROMFILE_METRICS. */
  readonly file: string;
  /** Remove what this run made; a warning when something kept the directory from going. */
  remove(): Promise<string | undefined>;
}

/** Make `<root>/promfile-run-XXXXXX` (mode 0700) and hold it open, so that its removal goes by descriptor. */
export async function makeScratch(root: string): Promise<Scratch> {
  const dir = await mkdtemp(join(root, PREFIX));
  let handle: FileHandle;
  try {
    handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (error) {
    await rmdir(dir).catch(() => undefined);
    throw error;
  }
  return { dir, file: join(dir, FILE), remove: () => removeScratch(dir, handle) };
}

/**
 * The metrics file is unlinked through /proc/self/fd/N: in the directory
 * this run opened, wherever its path leads now (the job may have moved it and
 * left a link in its place). The directory goes by rmdir, which removes only
 * an empty directory, and only while its path still leads to the one opened.
 * Whatever else the job put there stays, with a warning.
 */
async function removeScratch(dir: string, handle: FileHandle): Promise<string | undefined> {
  try {
    // Not ENOENT only: a directory the job made at that name (EISDIR) stays too, and rmdir says so below.
    await unlink(`/proc/self/fd/${handle.fd}/${FILE}`).catch(() => undefined);
    const [made, now] = await Promise.all([handle.stat(), lstat(dir).catch(() => undefined)]);
    if (now?.isDirectory() !== true || now.ino !== made.ino || now.dev !== made.dev)
      return `the job moved ${dir} away; it and what is at its path now were left as they are`;
    await rmdir(dir);
    return undefined;
  } catch (error) {
    if (errnoOf(error) === 'ENOTEMPTY' || errnoOf(error) === 'EEXIST') return `the job left other files in ${dir}; it was not removed`;
    return `cannot remove ${dir}: ${messageOf(error)}`;
  } finally {
    await handle.close();
  }
}
