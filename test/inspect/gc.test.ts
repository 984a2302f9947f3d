import { readdir, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IoError } from '../../src/errors.js';
import { collectGarbage, garbageReason, listTextfileDirectory } from '../../src/inspect/gc.js';
import { tempDir } from '../helpers/cli.js';
import { holdLock } from '../helpers/locks.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir('promfile-gc-')));
afterEach(async () => cleanup?.());

const DAY_MS = 86_400_000;

async function aged(name: string, ageMs: number, content = '# TYPE a gauge\na 1\n'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  const when = (Date.now() - ageMs) / 1000;
  await utimes(path, when, when);
  return path;
}

async function collect(options: Parameters<typeof collectGarbage>[1]): Promise<string[]> {
  const paths: string[] = [];
  for await (const path of collectGarbage(dir, options)) paths.push(path);
  return paths;
}

describe('garbageReason', () => {
  it('old temp files and old lock files are garbage; young ones, links and fresh .prom files are not', async () => {
    await aged('old.prom.tmp-abc', DAY_MS);
    await aged('young.prom.tmp-abc', 1000);
    await aged('.old.prom.lock', DAY_MS, '');
    await aged('stale.prom', 10 * DAY_MS);
    await aged('fresh.prom', 1000);
    await symlink(join(dir, 'stale.prom'), join(dir, 'link.prom'));
    const now = Date.now();
    const reasons = Object.fromEntries(
      (await listTextfileDirectory(dir)).map((entry) => [entry.name, garbageReason(entry, now, 7 * DAY_MS)]),
    );
    expect(reasons).toEqual({
      '.old.prom.lock': 'lock',
      'fresh.prom': undefined,
      'link.prom': undefined,
      'old.prom.tmp-abc': 'temp',
      'stale.prom': 'stale',
      'young.prom.tmp-abc': undefined,
    });
  });

  it('without olderThanMs, no .prom file is garbage however old', async () => {
    await aged('ancient.prom', 1000 * DAY_MS);
    const [entry] = await listTextfileDirectory(dir);
    expect(entry && garbageReason(entry, Date.now(), undefined)).toBeUndefined();
  });
});

describe('collectGarbage', () => {
  it('deletes what is garbage, yields each path, and keeps the rest', async () => {
    const temp = await aged('job.prom.tmp-1f', DAY_MS);
    const stale = await aged('stale.prom', 10 * DAY_MS);
    await aged('fresh.prom', 1000);
    expect(await collect({ now: Date.now(), olderThanMs: 7 * DAY_MS })).toEqual([temp, stale]);
    expect(await readdir(dir)).toEqual(['fresh.prom']);
  });

  it('a dry run deletes nothing and lists the same paths', async () => {
    const temp = await aged('job.prom.tmp-1f', DAY_MS);
    expect(await collect({ now: Date.now(), dryRun: true })).toEqual([temp]);
    expect(await readdir(dir)).toEqual(['job.prom.tmp-1f']);
  });

  it('never removes a lock file somebody holds, even an old one, nor a .prom being written', async () => {
    const lock = await aged('.busy.prom.lock', DAY_MS, '');
    await aged('busy.prom', 10 * DAY_MS);
    const holder = await holdLock(lock);
    try {
      expect(await collect({ now: Date.now(), olderThanMs: 7 * DAY_MS, dryRun: true })).toEqual([join(dir, 'busy.prom')]);
      expect(await collect({ now: Date.now(), olderThanMs: 7 * DAY_MS })).toEqual([]);
      expect((await readdir(dir)).sort()).toEqual(['.busy.prom.lock', 'busy.prom']);
    } finally {
      await holder.release();
    }
  });

  it('a missing directory is ERR_DIR_MISSING, naming how to choose another', async () => {
    const missing = join(dir, 'nope');
    await expect(listTextfileDirectory(missing)).rejects.toBeInstanceOf(IoError);
    await expect(collectGarbage(missing, { now: Date.now() }).next()).rejects.toMatchObject({
      code: 'ERR_DIR_MISSING',
      message: expect.stringMatching(/--dir or PROMFILE_DIR/),
    });
  });

  it('a file where the directory should be is ERR_READ_FAILED', async () => {
    const file = await aged('plain', 0);
    await expect(listTextfileDirectory(file)).rejects.toMatchObject({ code: 'ERR_READ_FAILED', message: expect.stringMatching(/ENOTDIR/) });
  });
});
