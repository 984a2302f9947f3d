// A lock file beside the target, so read-modify-write cycles of concurrent
// promfile processes never lose an update. The .prom file itself cannot be
// locked: every write replaces its inode. The lock file is created with
// O_EXCL and holds the owner's pid; a lock whose owner died is taken over.
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { pid } from 'node:process'; // only to name this lock's owner
import { setTimeout as sleep } from 'node:timers/promises';
import { errnoOf, IoError, messageOf } from '../errors.js';
import { uniqueSuffix } from './temp-name.js';

/** Where the kernel shows processes; tests point it elsewhere. */
export const DEFAULT_PROC_ROOT = '/proc';

export interface LockOptions {
  /** How long to wait for the lock, in milliseconds. 0: fail at once if it is held. */
  readonly timeoutMs?: number;
}

export const DEFAULT_LOCK_TIMEOUT_MS = 30_000;

/** A held lock; release it exactly once. */
export interface Lock {
  readonly path: string;
  release(): Promise<void>;
}

/** The lock file of a target: a dotfile whose name does not end in `.prom`. */
export function lockPathFor(targetPath: string): string {
  const slash = targetPath.lastIndexOf('/');
  return `${targetPath.slice(0, slash + 1)}.${targetPath.slice(slash + 1)}.lock`;
}

export async function acquireLock(path: string, options: LockOptions = {}): Promise<Lock> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const token = `${pid} ${hostname()} ${uniqueSuffix()}\n`;
  let delay = 5;
  for (;;) {
    if (await tryCreate(path, token)) return { path, release: () => releaseLock(path, token) };
    if (await takeOverIfStale(path)) continue;
    if (Date.now() >= deadline) {
      const holder = await readLockHolder(path);
      const who = holder ? ` (held by pid ${holder.pid} on ${holder.host})` : '';
      if (timeoutMs === 0) throw new IoError('ERR_LOCK_BUSY', `lock ${path} is held${who}`);
      throw new IoError('ERR_LOCK_TIMEOUT', `timed out after ${timeoutMs} ms waiting for lock ${path}${who}`);
    }
    await sleep(Math.min(delay + Math.random() * delay, Math.max(1, deadline - Date.now())));
    delay = Math.min(delay * 2, 100);
  }
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

async function tryCreate(path: string, token: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'wx', 0o644);
  } catch (error) {
    if (errnoOf(error) === 'EEXIST') return false;
    throw new IoError(
      errnoOf(error) === 'ENOENT' ? 'ERR_DIR_MISSING' : 'ERR_WRITE_FAILED',
      `cannot create lock ${path}: ${messageOf(error)}`,
      { cause: error },
    );
  }
  try {
    await handle.writeFile(token);
  } catch (error) {
    // A lock without its owner would block every writer until judged stale.
    await handle.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw new IoError('ERR_WRITE_FAILED', `cannot create lock ${path}: ${messageOf(error)}`, { cause: error });
  }
  await handle.close();
  return true;
}

async function releaseLock(path: string, token: string): Promise<void> {
  // Only remove the lock if it is still ours.
  const content = await readFile(path, 'utf8').catch(() => undefined);
  if (content === token) await unlink(path).catch(() => undefined);
}

/** Who holds a lock, as its file says. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly raw: string;
}

/** The holder named in a lock file, or undefined when it names none (yet). */
export async function readLockHolder(path: string): Promise<LockHolder | undefined> {
  const raw = await readFile(path, 'utf8').catch(() => undefined);
  if (raw === undefined) return undefined;
  const [pidText, host] = raw.trim().split(' ');
  const owner = Number(pidText);
  if (!Number.isInteger(owner) || owner <= 0 || !host) return undefined;
  return { pid: owner, host, raw };
}

/** True when the holder is known to be gone (same host only; needs a /proc to look in). */
export async function isLockHolderDead(holder: LockHolder, procRoot = '/proc'): Promise<boolean> {
  if (holder.host !== hostname()) return false;
  try {
    await stat(`${procRoot}/self`);
  } catch {
    return false; // no /proc: cannot tell, so wait for the timeout
  }
  try {
    await stat(`${procRoot}/${holder.pid}`);
    return false;
  } catch {
    return true;
  }
}

/** A lock file with no readable owner is judged abandoned after this long. */
const GARBAGE_AGE_MS = 5_000;
/** A takeover guard is held for a few system calls; older than this, its holder died. */
const GUARD_AGE_MS = 10_000;

/**
 * Remove a lock left by a dead process. Takeovers are serialized by a guard
 * file, and under it the lock is re-read: only the exact stale content is
 * removed, never a fresh lock that a live process created in the meantime.
 */
async function takeOverIfStale(path: string): Promise<boolean> {
  const holder = await readLockHolder(path);
  if (holder ? !(await isLockHolderDead(holder)) : !(await isOldGarbage(path))) return false;
  const stale = holder?.raw;
  const guard = `${path}.takeover`;
  let handle;
  try {
    handle = await open(guard, 'wx', 0o644);
  } catch (error) {
    if (errnoOf(error) !== 'EEXIST') return false;
    const info = await stat(guard).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > GUARD_AGE_MS) await unlink(guard).catch(() => undefined);
    return false; // another waiter is taking over: retry after the usual pause
  }
  try {
    const current = await readFile(path, 'utf8').catch(() => undefined);
    if (current === undefined) return true;
    const stillStale = stale === undefined ? (await readLockHolder(path)) === undefined && (await isOldGarbage(path)) : current === stale;
    if (stillStale) await unlink(path).catch(() => undefined);
    return stillStale;
  } finally {
    await handle.close();
    await unlink(guard).catch(() => undefined);
  }
}

/** A lock file without an owner line that has not changed for a while. */
async function isOldGarbage(path: string): Promise<boolean> {
  const info = await stat(path).catch(() => undefined);
  return info !== undefined && Date.now() - info.mtimeMs > GARBAGE_AGE_MS;
}
