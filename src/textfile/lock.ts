// Kernel-managed locks: flock(2) on a lock file beside the target, so
// read-modify-write cycles of concurrent promfile processes never lose an
// update. The .prom file itself cannot be locked: every write replaces its inode.
//
// Node has no flock(), so util-linux flock(1) takes the lock on a descriptor
// we opened and hand it as fd 3. The lock belongs to the open file
// description, not to flock(1): it stays held after flock(1) exits, is shared
// by every process that inherits the descriptor (run's job), and the kernel
// drops it when the last descriptor closes (release, exit, SIGKILL, reboot).
// No pid is written or judged: PID namespaces, pid reuse and stalls do not matter.
//
// Lock files stay: removing one on release would send every waiter that
// opened it round again (a spawn each, per release). gc removes old ones
// nobody holds, taking the lock first; every taker checks after locking that
// the name still leads to the file it locked (else it locks the new one), so
// removing a lock file never lets two holders in.
import { constants } from 'node:fs';
import { lstat, open, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errnoOf, IoError, messageOf } from '../errors.js';
import { describeFileKind } from './files.js';
import { pausePoint } from './pause.js';

const { O_RDWR, O_RDONLY, O_CREAT, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY } = constants;
/**
 * O_NOFOLLOW: a symlink fails (ELOOP); O_NONBLOCK: a FIFO opens at once instead
 * of waiting for a writer (and is then refused); O_NOCTTY: a tty is never adopted.
 * libuv adds O_CLOEXEC: only children handed the descriptor inherit it.
 */
const LOCK_OPEN_FLAGS = O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;
/** For probes and removal: never creates a file. */
const EXISTING_OPEN_FLAGS = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;
/** Our `flock -E` status for "held". flock(1) uses 64..71 for its own errors, never 75. */
const BUSY_STATUS = 75;

export interface LockOptions {
  /** How long to wait for the lock, in milliseconds. 0: fail at once if it is held. */
  readonly timeoutMs?: number;
}

export const DEFAULT_LOCK_TIMEOUT_MS = 30_000;

/** A held lock; release it exactly once. */
export interface Lock {
  readonly path: string;
  /** The locked descriptor: a child given it (in its stdio) shares the lock until its last process ends. */
  readonly fd: number;
  /** Drop the lock (close the descriptor); a child that inherited it keeps holding it until it ends. */
  release(): Promise<void>;
}

/** The lock file of a target: a dotfile whose name does not end in `.prom`. */
export function lockPathFor(targetPath: string): string {
  const slash = targetPath.lastIndexOf('/');
  return `${targetPath.slice(0, slash + 1)}.${targetPath.slice(slash + 1)}.lock`;
}

/** Take the lock at `path`, waiting up to `timeoutMs`; anything but a regular file there is an error. */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<Lock> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const handle = await openLockFile(path, LOCK_OPEN_FLAGS);
    let held = false;
    try {
      pausePoint('lock-opened');
      held = await flock(handle.fd, Math.max(0, deadline - Date.now()));
      if (!held) {
        if (timeoutMs === 0) throw new IoError('ERR_LOCK_BUSY', `lock ${path} is held by another process`);
        throw new IoError('ERR_LOCK_TIMEOUT', `timed out after ${timeoutMs} ms waiting for lock ${path}`);
      }
      // The holder before us may have removed the file after we opened it: then we locked a ghost.
      if (await stillNamed(handle, path)) {
        pausePoint('locked');
        return heldLock(path, handle);
      }
      held = false;
    } finally {
      if (!held) await handle.close();
    }
  }
}

function heldLock(path: string, handle: FileHandle): Lock {
  return { path, fd: handle.fd, release: () => handle.close() };
}

/** Run `fn` while holding the lock of `targetPath`. */
export async function withLock<T>(targetPath: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const lock = await acquireLock(lockPathFor(targetPath), options);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

/**
 * Whether some process holds the lock at `path`, without waiting: a shared
 * lock attempt on a fresh read-only descriptor (the file is never created).
 * A missing file is not held. For about one flock(1) run, a concurrent
 * non-blocking taker may see the lock as busy.
 */
export async function isLockHeld(path: string): Promise<boolean> {
  const handle = await openExisting(path);
  if (!handle) return false;
  try {
    return !(await flock(handle.fd, 0, true));
  } finally {
    await handle.close();
  }
}

/** Remove the lock file at `path` if nobody holds it (taking it first, so no taker is cut off). True when removed. */
export async function removeLockIfFree(path: string): Promise<boolean> {
  const handle = await openExisting(path);
  if (!handle) return false;
  try {
    if (!(await flock(handle.fd, 0))) return false;
    if (!(await stillNamed(handle, path))) return false;
    await unlink(path);
    return true;
  } finally {
    await handle.close();
  }
}

async function openExisting(path: string): Promise<FileHandle | undefined> {
  try {
    return await openLockFile(path, EXISTING_OPEN_FLAGS);
  } catch (error) {
    if (error instanceof IoError && errnoOf(error.cause) === 'ENOENT') return undefined;
    throw error;
  }
}

const OPEN_REFUSALS: Readonly<Record<string, string>> = {
  ELOOP: 'is a symbolic link',
  EISDIR: 'is a directory',
  ENXIO: 'is a socket',
  EACCES: 'cannot be opened: permission denied',
  EPERM: 'cannot be opened: operation not permitted',
};

/** Open a lock file; refuse anything but a regular file, naming what is there. */
async function openLockFile(path: string, flags: number): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(path, flags, 0o644);
  } catch (error) {
    const errno = errnoOf(error) ?? '';
    if ((errno === 'EACCES' || errno === 'EPERM') && (await lstat(path).catch(() => undefined)) === undefined)
      throw new IoError(
        'ERR_WRITE_FAILED',
        `cannot create lock ${path}: ${dirname(path)} is not writable by this user (${errno === 'EACCES' ? 'permission denied' : 'operation not permitted'}); ` +
          'run as a user who may write there (often root), or choose another directory',
        { cause: error },
      );
    const code = errno === 'ENOENT' ? 'ERR_DIR_MISSING' : errno in OPEN_REFUSALS ? 'ERR_UNSAFE_TARGET' : 'ERR_WRITE_FAILED';
    const why = OPEN_REFUSALS[errno] ?? `cannot be opened: ${messageOf(error)}`;
    throw new IoError(code, `lock ${path} ${why}${code === 'ERR_UNSAFE_TARGET' ? ': remove it' : ''}`, { cause: error });
  }
  const info = await handle.stat().catch(() => undefined);
  if (info?.isFile()) return handle;
  await handle.close();
  throw new IoError('ERR_UNSAFE_TARGET', `lock ${path} is ${describeFileKind(info)}, not a regular file: remove it`);
}

/** True while `path` names the file open on `handle`. */
async function stillNamed(handle: FileHandle, path: string): Promise<boolean> {
  const [mine, named] = await Promise.all([handle.stat(), lstat(path).catch(() => undefined)]);
  return named !== undefined && named.ino === mine.ino && named.dev === mine.dev;
}

/**
 * flock(2) on `fd` through flock(1): true when taken (or already held through
 * this descriptor), false when still held by another after `timeoutMs`.
 * child_process is loaded here, on the first lock, not with this module: the
 * paths that take no lock (--dry-run, check) do not pay for it at start.
 * flock(1)'s stderr is ours: a pipe to read it would cost a stream per lock,
 * and it only ever speaks on a failure we report after it.
 */
async function flock(fd: number, timeoutMs: number, shared = false): Promise<boolean> {
  // -w takes seconds with microsecond precision; below a millisecond, don't wait.
  const wait = timeoutMs >= 1 ? ['-w', (timeoutMs / 1000).toFixed(3)] : ['-n'];
  const args = [...wait, shared ? '-s' : '-x', '-E', String(BUSY_STATUS), '3'];
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const child = spawn('flock', args, { stdio: ['ignore', 'ignore', 'inherit', fd] });
    let failed: unknown;
    child.on('error', (error) => (failed = error)); // 'close' follows
    child.on('close', (status, signal) => {
      if (failed !== undefined) return reject(flockMissing(failed));
      if (status === 0) return resolve(true);
      if (status === BUSY_STATUS) return resolve(false);
      const how = signal ? `was killed by ${signal}` : `exited with status ${status} (its message, if any, is above)`;
      reject(new IoError('ERR_LOCK_FAILED', `flock(1) ${how}`));
    });
  });
}

function flockMissing(error: unknown): IoError {
  const why =
    errnoOf(error) === 'ENOENT'
      ? 'flock(1) was not found: promfile locks files with util-linux flock(1); install util-linux (or put flock on PATH)'
      : `cannot run flock(1): ${messageOf(error)}`;
  return new IoError('ERR_LOCK_FAILED', why, { cause: error });
}
