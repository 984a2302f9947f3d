// The textfile directory, pinned: opened once, checked, and used through its
// descriptor, so nobody can swap it (rename it and put a symlink in its place)
// between our check and our write.
//
// Node has no openat(2). Two ways remain: chdir into the directory and use
// relative names (process-wide, and run's job would inherit the cwd), or
// /proc/self/fd/<fd>/NAME, which the kernel resolves through the open
// descriptor, not through the directory's name: a rename of the directory
// does not redirect it, and neither does a symlink put at the old name. We use
// the latter, here in the library, so every caller gets it. Without /proc
// (not Linux) the plain path is used.
import { constants, type Stats } from 'node:fs';
import { lstat, open, readlink, stat, type FileHandle } from 'node:fs/promises';
import { errnoOf, IoError, messageOf } from '../errors.js';
import { prepareDirectory } from './files.js';
import { pausePoint } from './pause.js';

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = constants;

export interface PinOptions {
  /** Create the directory when it is missing. */
  readonly mkdir?: boolean | undefined;
  /**
   * Accept a directory whose path others could change (Debian's
   * /var/lib/prometheus belongs to the exporter's account) when writing as root.
   */
  readonly trustParent?: boolean | undefined;
}

export interface PinnedDirectory {
  /** The directory as given, for messages. */
  readonly dir: string;
  /** A path to NAME in the pinned directory, resolved through the descriptor. */
  at(name: string): string;
  /** Put the directory's name back into an error that quotes a pinned path. */
  relabel(error: unknown): unknown;
  close(): Promise<void>;
}

let procFdWorks: Promise<boolean> | undefined;

/** Open `dir` (not through a symlink), check who controls its path when we are root, and pin it. */
export async function pinDirectory(dir: string, options: PinOptions = {}): Promise<PinnedDirectory> {
  await prepareDirectory(dir, options.mkdir === true);
  let handle: FileHandle;
  try {
    handle = await open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  } catch (error) {
    if (errnoOf(error) === 'ELOOP' || errnoOf(error) === 'ENOTDIR')
      throw new IoError('ERR_UNSAFE_TARGET', `${dir} is a symbolic link or not a directory: give the directory itself`, { cause: error });
    throw new IoError('ERR_READ_FAILED', `cannot open directory ${dir}: ${messageOf(error)}`, { cause: error });
  }
  try {
    if (process.geteuid?.() === 0 && options.trustParent !== true) await refuseForeignPath(dir, handle);
    pausePoint('dir-checked');
  } catch (error) {
    await handle.close();
    throw error;
  }
  const base = (await (procFdWorks ??= stat('/proc/self/fd').then(
    () => true,
    () => false,
  )))
    ? `/proc/self/fd/${handle.fd}`
    : dir;
  const prefix = `${base}/`;
  return {
    dir,
    at: (name) => `${base}/${name}`,
    relabel: (error) =>
      error instanceof IoError && error.message.includes(prefix)
        ? new IoError(error.code, error.message.replaceAll(prefix, `${dir.replace(/\/$/, '')}/`), { cause: error.cause })
        : error,
    close: () => handle.close(),
  };
}

/**
 * Root writes only where nobody else can move things: every directory from /
 * down to the pinned one must belong to root (or the caller) and be writable
 * by nobody else, except a sticky directory (such as /tmp) whose entry on our
 * path belongs to root or the caller. Walks the path the descriptor really has.
 */
async function refuseForeignPath(dir: string, handle: FileHandle): Promise<void> {
  const uid = process.geteuid?.() ?? 0;
  const pinned = await handle.stat();
  const real = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => dir);
  const components = real.split('/').filter(Boolean);
  const paths = ['/', ...components.map((_, i) => `/${components.slice(0, i + 1).join('/')}`)];
  const infos = await Promise.all(paths.map((path) => lstat(path)));
  const last = infos[infos.length - 1] as Stats;
  if (last.ino !== pinned.ino || last.dev !== pinned.dev)
    throw new IoError('ERR_UNTRUSTED_DIR', `${dir} was moved while promfile checked it: refusing to write there as root`);
  const trusted = (info: Stats): boolean => info.uid === 0 || info.uid === uid;
  for (const [i, info] of infos.entries()) {
    const path = paths[i] as string;
    const next = infos[i + 1];
    const othersWrite = (info.mode & 0o022) !== 0;
    const stickyShield = (info.mode & 0o1000) !== 0 && (next === undefined || trusted(next));
    let problem: string | undefined;
    if (!trusted(info)) problem = `is owned by uid ${info.uid}`;
    else if (othersWrite && !stickyShield) problem = `is writable by ${(info.mode & 0o002) !== 0 ? 'every user' : `group ${info.gid}`}`;
    if (problem)
      throw new IoError(
        'ERR_UNTRUSTED_DIR',
        `refusing to write as root into ${dir}: ${path} ${problem}, who can swap the directory for a link to anywhere; ` +
          `fix it with "chown root:root ${path}" (and "chmod go-w ${path}"), use a directory elsewhere, or accept the risk explicitly`,
      );
  }
}
