// The textfile directory, pinned: reached one component at a time without
// following a link anywhere on its path, opened, and from then on used only
// through its descriptor. Nobody can redirect a write by swapping something on
// the path, before or after the pin: a symlink put in place of any component
// is refused when we reach it, and a rename after we passed it does not move
// the descriptors we hold. An account that owns a directory on the path can at
// most make us write into a directory of its own, never into one it cannot
// write. So root needs no judgement of who owns the path (Debian's
// /var/lib/prometheus belongs to the exporter's account), and none is made.
//
// Node has no openat(2). /proc/self/fd/<fd>/NAME gives the same: the kernel
// resolves NAME in the directory open on <fd>, whatever has happened to that
// directory's name since. Without /proc (not Linux) the plain path is used.
import { constants } from 'node:fs';
import { lstat, mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import { errnoOf, IoError, messageOf, PromfileError } from '../errors.js';
import { ioError } from './files.js';
import { pausePoint } from './pause.js';

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = constants;
/**
 * Linux's O_PATH (Node does not name it; 010000000 on every architecture Node
 * runs on): a descriptor that only stands for the directory, so walking
 * through a directory we may search but not list (mode 0711) works as a path
 * lookup does.
 */
const O_PATH = process.platform === 'linux' ? 0o10000000 : 0;
const DIRECTORY_FLAGS = O_PATH | O_RDONLY | O_DIRECTORY | O_NOFOLLOW;

export interface PinOptions {
  /** Create the directory (and any missing directory above it) when it is missing. */
  readonly mkdir?: boolean | undefined;
  /** What the directory is, for messages; default "textfile directory". */
  readonly what?: string | undefined;
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

/** Reach `dir` without following any link, open it, and pin it. */
export async function pinDirectory(dir: string, options: PinOptions = {}): Promise<PinnedDirectory> {
  const useProc = await (procFdWorks ??= stat('/proc/self/fd').then(
    () => true,
    () => false,
  ));
  const what = options.what ?? 'textfile directory';
  const handle = useProc ? await walk(dir, options.mkdir === true, what) : await openPlain(dir, options.mkdir === true, what);
  try {
    if (process.geteuid?.() === 0) await refuseSharedDirectory(dir, handle);
    pausePoint('dir-checked');
  } catch (error) {
    await handle.close();
    throw error;
  }
  const base = useProc ? `/proc/self/fd/${handle.fd}` : dir.replace(/\/$/, '');
  // The descriptor's path, not a longer number that starts with it.
  const pinnedPath = new RegExp(`${base}(?![0-9])`, 'g');
  return {
    dir,
    at: (name) => `${base}/${name}`,
    relabel: (error) => {
      if (useProc && error instanceof PromfileError) error.message = error.message.replace(pinnedPath, dir.replace(/\/$/, ''));
      return error;
    },
    close: () => handle.close(),
  };
}

/** Open each component of `dir` relative to the one before, refusing a link anywhere. */
async function walk(dir: string, create: boolean, what: string): Promise<FileHandle> {
  const names = resolve(dir).split('/').filter(Boolean);
  let handle = await open('/', O_PATH | O_RDONLY | O_DIRECTORY);
  try {
    for (const [i, name] of names.entries()) {
      const reached = `/${names.slice(0, i + 1).join('/')}`;
      const next = await openComponent(`/proc/self/fd/${handle.fd}/${name}`, reached, { dir, what }, create);
      await handle.close();
      handle = next;
    }
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** The directory being pinned: as given, and what it is (for messages). */
interface Target {
  readonly dir: string;
  readonly what: string;
}

async function openComponent(at: string, reached: string, target: Target, create: boolean): Promise<FileHandle> {
  try {
    return await open(at, DIRECTORY_FLAGS);
  } catch (error) {
    if (errnoOf(error) !== 'ENOENT' || !create) throw await componentError(error, at, reached, target);
  }
  await mkdir(at, { mode: 0o755 }).catch((error: unknown) => {
    if (errnoOf(error) !== 'EEXIST') throw ioError('ERR_WRITE_FAILED', `cannot create directory ${reached}`, error);
  });
  return open(at, DIRECTORY_FLAGS).catch(async (error: unknown) => {
    throw await componentError(error, at, reached, target);
  });
}

/** Why `at` (shown as `reached`) cannot be opened as a directory; O_PATH opens a link itself, so ENOTDIR may mean a link too. */
async function componentError(error: unknown, at: string, reached: string, { dir, what }: Target): Promise<PromfileError> {
  const errno = errnoOf(error);
  const link = (errno === 'ELOOP' || errno === 'ENOTDIR') && (await lstat(at).catch(() => undefined))?.isSymbolicLink() === true;
  switch (link ? 'ELOOP' : errno) {
    case 'ELOOP':
      return new IoError(
        'ERR_UNSAFE_TARGET',
        `${reached} is a symbolic link: promfile reaches the ${what} without following links, so that nobody can redirect it; give the real path of ${dir}`,
        { cause: error },
      );
    case 'ENOTDIR':
      return new IoError('ERR_DIR_MISSING', `${reached} is not a directory`, { cause: error });
    case 'ENOENT':
      return new IoError('ERR_DIR_MISSING', `${what} ${dir} does not exist`, { cause: error });
    default:
      return ioError('ERR_READ_FAILED', `cannot access directory ${dir}`, error);
  }
}

/** Without /proc: the directory itself, not through a link at its own name. */
async function openPlain(dir: string, create: boolean, what: string): Promise<FileHandle> {
  if (create) await mkdir(dir, { recursive: true, mode: 0o755 }).catch(() => undefined);
  return open(dir, DIRECTORY_FLAGS).catch(async (error: unknown) => {
    throw await componentError(error, dir, dir, { dir, what });
  });
}

/**
 * What no descriptor can make safe: a directory where others may remove or
 * replace any entry (writable by group or others, without the sticky bit).
 * There, another account could take the lock file away from under a holder,
 * or swap the file between our steps; root does not write there.
 */
async function refuseSharedDirectory(dir: string, handle: FileHandle): Promise<void> {
  const info = await handle.stat().catch((error: unknown) => {
    throw new IoError('ERR_READ_FAILED', `cannot stat directory ${dir}: ${messageOf(error)}`, { cause: error });
  });
  const sticky = (info.mode & 0o1000) !== 0;
  const groupWrites = (info.mode & 0o020) !== 0 && info.gid !== 0;
  const everyoneWrites = (info.mode & 0o002) !== 0;
  if (sticky || !(groupWrites || everyoneWrites)) return;
  const who = everyoneWrites ? 'every user' : `group ${info.gid}`;
  throw new IoError(
    'ERR_UNTRUSTED_DIR',
    `refusing to write as root into ${dir}: it is writable by ${who} and not sticky, so another account could remove or replace ` +
      `the file and its lock between promfile's steps; fix it with "chmod go-w ${dir}" (or "chmod +t ${dir}")`,
  );
}
