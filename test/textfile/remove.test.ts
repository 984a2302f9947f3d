import { readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PromfileError } from '../../src/errors.js';
import { deleteTextfile } from '../../src/textfile/update.js';
import { tempDir } from '../helpers/cli.js';
import { holdLock } from '../helpers/locks.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir('promfile-rm-')));
afterEach(async () => cleanup?.());

describe('deleteTextfile', () => {
  it('deletes the file and its lock file, and says it existed; a second time it did not', async () => {
    const path = join(dir, 'job.prom');
    await writeFile(path, '# TYPE a gauge\na 1\n');
    await writeFile(join(dir, '.job.prom.lock'), '');
    expect(await deleteTextfile(path)).toBe(true);
    expect(await readdir(dir)).toEqual([]);
    expect(await deleteTextfile(path)).toBe(false);
  });

  it('a dry run takes the lock and says whether there is a file (a link counts, even a dangling one), removing nothing', async () => {
    const path = join(dir, 'job.prom');
    await writeFile(path, 'a 1\n');
    await symlink(join(dir, 'gone'), join(dir, 'link.prom'));
    expect(await deleteTextfile(path, { dryRun: true })).toBe(true);
    expect(await deleteTextfile(join(dir, 'link.prom'), { dryRun: true })).toBe(true);
    expect(await deleteTextfile(join(dir, 'missing.prom'), { dryRun: true })).toBe(false);
    expect((await readdir(dir)).sort()).toEqual(['job.prom', 'link.prom']);
  });

  it('a dry run fails as the real run does while a writer holds the lock', async () => {
    const path = join(dir, 'job.prom');
    await writeFile(path, 'a 1\n');
    const holder = await holdLock(join(dir, '.job.prom.lock'));
    try {
      await expect(deleteTextfile(path, { dryRun: true, lockTimeoutMs: 0 })).rejects.toMatchObject({ code: 'ERR_LOCK_BUSY' });
    } finally {
      await holder.release();
    }
  });

  it('a missing directory is not an error: there was nothing to delete', async () => {
    expect(await deleteTextfile(join(dir, 'nope', 'job.prom'))).toBe(false);
  });

  it('waits for the lock, and gives up with ERR_LOCK_TIMEOUT while a writer holds it; the file stays', async () => {
    const path = join(dir, 'job.prom');
    await writeFile(path, 'a 1\n');
    const holder = await holdLock(join(dir, '.job.prom.lock'));
    try {
      const error: unknown = await deleteTextfile(path, { lockTimeoutMs: 200 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PromfileError);
      expect(error).toMatchObject({ code: 'ERR_LOCK_TIMEOUT' });
      expect(await readdir(dir)).toContain('job.prom');
    } finally {
      await holder.release();
    }
  });
});
