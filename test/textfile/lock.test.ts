import { readdir, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, lockPathFor, withLock } from '../../src/textfile/lock.js';
import { tempDir } from '../helpers/cli.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup?.());

const DEAD_PID = 4194999; // above the kernel's pid_max: never a live process

describe('lock', () => {
  it('is a dotfile beside the target whose name does not end in .prom', () => {
    expect(lockPathFor('/d/apt.prom')).toBe('/d/.apt.prom.lock');
  });

  it("excludes: never two holders at once, even while taking over a dead holder's lock", async () => {
    const target = join(dir, 'x.prom');
    await writeFile(lockPathFor(target), `${DEAD_PID} ${hostname()} stale\n`);
    let inside = 0;
    let most = 0;
    let done = 0;
    await Promise.all(
      Array.from({ length: 40 }, () =>
        withLock(target, async () => {
          inside++;
          most = Math.max(most, inside);
          await sleep(1);
          inside--;
          done++;
        }),
      ),
    );
    expect([most, done]).toEqual([1, 40]);
    expect(await readdir(dir)).toEqual([]);
  });

  it('takes over an ownerless lock only once it is old', async () => {
    const path = join(dir, '.g.prom.lock');
    await writeFile(path, '');
    await expect(acquireLock(path, { timeoutMs: 100 })).rejects.toMatchObject({ code: 'ERR_LOCK_TIMEOUT' });
    const old = new Date(Date.now() - 60_000);
    await utimes(path, old, old);
    const lock = await acquireLock(path, { timeoutMs: 1000 });
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('reports a held lock: ERR_LOCK_BUSY with timeout 0, ERR_LOCK_TIMEOUT otherwise, naming the holder', async () => {
    const path = join(dir, '.b.prom.lock');
    const held = await acquireLock(path);
    await expect(acquireLock(path, { timeoutMs: 0 })).rejects.toMatchObject({
      code: 'ERR_LOCK_BUSY',
      message: expect.stringMatching(/held by pid \d+ on /),
    });
    await expect(acquireLock(path, { timeoutMs: 50 })).rejects.toMatchObject({ code: 'ERR_LOCK_TIMEOUT' });
    await held.release();
    const again = await acquireLock(path, { timeoutMs: 0 });
    await again.release();
  });

  it('release leaves a lock that is no longer its own', async () => {
    const path = join(dir, '.r.prom.lock');
    const lock = await acquireLock(path);
    await writeFile(path, `${DEAD_PID} ${hostname()} someone-else\n`);
    await lock.release();
    expect(await readdir(dir)).toEqual(['.r.prom.lock']);
  });
});
