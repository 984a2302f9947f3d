// Disk full: the textfile directory is a 1 MiB tmpfs mounted by the test
// (root only; CI runs as root, so there a missing privilege is a failure).
// A write that does not fit fails with a clear one-line error and exit 1;
// the old file stays byte-for-byte intact and nothing is left beside it.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateText } from '../../bench/generate.js';
import { promfile, tempDir } from '../helpers/cli.js';

const isRoot = process.getuid?.() === 0;
const underCi = process.env['CI'] === 'true';

describe.skipIf(!isRoot && !underCi)('disk full (1 MiB tmpfs)', () => {
  let dir: string;
  let mounted = false;
  let old: Buffer;

  let cleanup: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    if (!isRoot) throw new Error('the disk-full tests need root to mount a tmpfs, and CI=true makes that a failure');
    ({ dir, cleanup } = await tempDir('promfile-full-'));
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'promfile-test', dir], { encoding: 'utf8' });
    if (mount.status !== 0) throw new Error(`cannot mount a tmpfs on ${dir}: ${mount.stderr.trim()}`);
    mounted = true;
    const seeded = promfile(['set', '--dir', dir, '-f', 'x', 'disk_full_test_value', '1']);
    expect(seeded.status, seeded.stderr).toBe(0);
    old = readFileSync(join(dir, 'x.prom'));
  });

  afterAll(async () => {
    if (mounted) spawnSync('umount', [dir]);
    await cleanup?.();
  });

  // Each case starts from the same old file and a disk with room.
  beforeEach(() => {
    for (const name of readdirSync(dir)) rmSync(join(dir, name), { force: true });
    writeFileSync(join(dir, 'x.prom'), old);
  });

  function expectIntact(): void {
    expect(readFileSync(join(dir, 'x.prom')).equals(old)).toBe(true);
    // The lock file (empty, harmless, kept between writes) is not a leftover.
    expect(readdirSync(dir).filter((name) => name !== 'filler' && name !== '.x.prom.lock')).toEqual(['x.prom']);
  }

  // write-file-atomic 7 issues one fs.write and ignores its byte count: on a
  // full disk the truncated temp file would be renamed over the good file.
  // src/textfile.ts writes the bytes itself, in a loop; this guards that.
  it('write of a 2 MB file fails with exit 1 and "no space left on device", old file intact, nothing left', () => {
    const input = generateText(22_000);
    expect(input.length).toBeGreaterThan(2_000_000);
    const result = promfile(['write', '--dir', dir, '-f', 'x'], { input });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^promfile: cannot write .*x\.prom: no space left on device\n$/);
    expectIntact();
  });

  // Creating the (empty) lock file works on a full disk; the write itself fails with an I/O error.
  it('set on a completely full disk fails the same way and leaves no temp or lock file', () => {
    // Fill every free block; creating files (inodes) still works on tmpfs, writing them does not.
    spawnSync('dd', ['if=/dev/zero', `of=${join(dir, 'filler')}`, 'bs=4k'], { encoding: 'utf8' });
    try {
      const result = promfile(['set', '--dir', dir, '-f', 'x', 'disk_full_test_value', '2']);
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/^promfile: .*no space left on device.*\n$/);
      expect(result.stderr.split('\n')).toHaveLength(2);
      expectIntact();
    } finally {
      rmSync(join(dir, 'filler'), { force: true });
    }
  });

  it('a set that fits on the small disk succeeds', () => {
    const result = promfile(['set', '--dir', dir, '-f', 'x', 'disk_full_test_value', '3']);
    expect(result.status, result.stderr).toBe(0);
    expect(readFileSync(join(dir, 'x.prom'), 'utf8')).toContain('disk_full_test_value 3\n');
  });
});
