// Kernel-managed locks (flock(2) through flock(1)), tested against another
// process's flock(1) and against the kernel's release on death.
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, isLockHeld, lockPathFor, removeLockIfFree, withLock } from '../../src/textfile/lock.js';
import { tempDir } from '../helpers/cli.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup?.());

/** Hold an exclusive flock on `path` from another process until `ms` have passed; resolves once it holds it. */
async function holdElsewhere(path: string, ms: number): Promise<{ done: Promise<unknown> }> {
  const child = spawn('flock', ['-x', path, 'sh', '-c', `echo held; sleep ${ms / 1000}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => child.stdout.once('data', resolve));
  return { done: new Promise((resolve) => child.on('exit', resolve)) };
}

describe('lock', () => {
  it('is a dotfile beside the target whose name does not end in .prom', () => {
    expect(lockPathFor('/d/apt.prom')).toBe('/d/.apt.prom.lock');
  });

  it('excludes: never two holders at once; the lock file stays (empty) for the next writer', async () => {
    const target = join(dir, 'x.prom');
    let inside = 0;
    let most = 0;
    let done = 0;
    await Promise.all(
      Array.from({ length: 12 }, () =>
        withLock(target, async () => {
          inside++;
          most = Math.max(most, inside);
          await sleep(2);
          inside--;
          done++;
        }),
      ),
    );
    expect([most, done]).toEqual([1, 12]);
    expect(await readdir(dir)).toEqual(['.x.prom.lock']);
  });

  it('is the kernel lock other tools see: ERR_LOCK_BUSY with timeout 0, ERR_LOCK_TIMEOUT after a bounded wait', async () => {
    const path = join(dir, '.b.prom.lock');
    const holder = await holdElsewhere(path, 1500);
    expect(await isLockHeld(path)).toBe(true);
    await expect(acquireLock(path, { timeoutMs: 0 })).rejects.toMatchObject({ code: 'ERR_LOCK_BUSY' });
    const started = Date.now();
    await expect(acquireLock(path, { timeoutMs: 300 })).rejects.toMatchObject({ code: 'ERR_LOCK_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(1200);
    expect(await removeLockIfFree(path)).toBe(false); // gc never removes a held lock
    await holder.done;
    expect(await isLockHeld(path)).toBe(false);
    const lock = await acquireLock(path, { timeoutMs: 0 });
    // Another process sees our lock.
    expect(spawnSync('flock', ['-n', '-E', '75', path, 'true']).status).toBe(75);
    await lock.release();
    expect(await isLockHeld(path)).toBe(false);
    expect(await readdir(dir)).toEqual(['.b.prom.lock']);
  });

  it('a lock file with a pid written in it by an old version blocks nobody', async () => {
    const path = join(dir, '.old.prom.lock');
    await writeFile(path, '1 somehost 0123abcd\n');
    expect(await isLockHeld(path)).toBe(false);
    const lock = await acquireLock(path, { timeoutMs: 0 });
    await lock.release();
  });

  it('a waiter that opened the file before its holder removed it locks the new file, not the ghost', async () => {
    const path = join(dir, '.g.prom.lock');
    const first = await acquireLock(path);
    const waiting = acquireLock(path, { timeoutMs: 5000 });
    await sleep(300); // the waiter has opened the file and waits in flock(1)
    await first.release(); // unlinks, then unlocks
    const second = await waiting;
    // A third taker must see the second's lock: the second holds the file at the name.
    await expect(acquireLock(path, { timeoutMs: 0 })).rejects.toMatchObject({ code: 'ERR_LOCK_BUSY' });
    expect(await isLockHeld(path)).toBe(true);
    await second.release();
  });

  it('is released by the kernel when its holder is killed', async () => {
    const path = join(dir, '.k.prom.lock');
    // The shell opens the file, flock(1) locks that descriptor and exits, sleep keeps it: sleep is the only holder.
    const holder = spawn('sh', ['-c', `exec 9>'${path}'; flock -x 9; echo held; exec sleep 30`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((resolve) => holder.stdout.once('data', resolve));
    expect(await isLockHeld(path)).toBe(true);
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.on('exit', resolve));
    const lock = await acquireLock(path, { timeoutMs: 2000 });
    await lock.release();
  });

  it('refuses, without blocking, anything but a regular file at the lock name, naming it', async () => {
    spawnSync('mkfifo', [join(dir, '.fifo.prom.lock')]);
    await expect(acquireLock(join(dir, '.fifo.prom.lock'), { timeoutMs: 1000 })).rejects.toMatchObject({
      code: 'ERR_UNSAFE_TARGET',
      message: expect.stringMatching(/is a FIFO, not a regular file/),
    });
    await symlink('/dev/zero', join(dir, '.zero.prom.lock'));
    await expect(acquireLock(join(dir, '.zero.prom.lock'))).rejects.toMatchObject({ message: expect.stringMatching(/symbolic link/) });
    await mkdir(join(dir, '.dir.prom.lock'));
    const started = Date.now();
    await expect(acquireLock(join(dir, '.dir.prom.lock'), { timeoutMs: 5000 })).rejects.toMatchObject({
      message: expect.stringMatching(/is a directory/),
    });
    expect(Date.now() - started).toBeLessThan(1000); // no wait loop spinning to the deadline
    spawnSync('mknod', [join(dir, '.null.prom.lock'), 'c', '1', '3']);
    await expect(acquireLock(join(dir, '.null.prom.lock'))).rejects.toMatchObject({
      message: expect.stringMatching(/character device/),
    });
    await expect(isLockHeld(join(dir, '.fifo.prom.lock'))).rejects.toMatchObject({ code: 'ERR_UNSAFE_TARGET' });
  });

  it('without flock(1), says what to install', async () => {
    const saved = process.env['PATH'];
    process.env['PATH'] = '/nonexistent';
    try {
      await expect(acquireLock(join(dir, '.p.prom.lock'))).rejects.toMatchObject({
        code: 'ERR_LOCK_FAILED',
        message: expect.stringMatching(/flock\(1\) was not found.*install util-linux/),
      });
    } finally {
      process.env['PATH'] = saved;
    }
  });
});
