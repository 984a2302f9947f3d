// What another account can leave in the textfile directory must not make a
// write slow, large or blind: a huge sparse *.prom, one of zeros, a name that
// is not UTF-8. Each is reported, and the write goes on in bounded time.
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { promfile, tempDir } from '../helpers/cli.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir('promfile-hostile-')));
afterEach(() => cleanup());

/** A sparse file of `size` zero bytes: nothing on disk. */
function sparse(name: string, size: string): void {
  expect(spawnSync('truncate', ['-s', size, join(dir, name)]).status).toBe(0);
}

describe('a neighbour no write reads whole', () => {
  it('a sparse 2 GiB *.prom is not read: set warns, naming it, and writes', () => {
    sparse('huge.prom', '2G');
    const result = promfile(['set', '--dir', dir, '-f', 'mine', 'hostile_value', '1']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^promfile: warning: .*huge\.prom was not read for the directory check: it holds 2048 MiB/m);
    expect(readdirSync(dir).sort()).toEqual(['.mine.prom.lock', 'huge.prom', 'mine.prom']);
  });

  it('a 64 MiB *.prom of zeros is given up at its first chunk, not read whole, and named; stdin write too', () => {
    sparse('zeros.prom', '64M');
    for (const [args, input] of [
      [['set', '--dir', dir, '-f', 'mine', 'hostile_value', '1'], undefined],
      [['write', '--dir', dir, '-f', 'piped'], 'hostile_piped 2\n'],
    ] as const) {
      const result = promfile([...args], input === undefined ? {} : { input });
      expect(result.status, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/zeros\.prom could not be judged for the directory check within bounds: it holds 64 MiB/);
    }
  });
});

describe('a *.prom whose name is not UTF-8', () => {
  const badName = Buffer.concat([Buffer.from('bad'), Buffer.from([0xff, 0x1b]), Buffer.from('.prom')]);
  beforeEach(() => writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), badName]), 'hostile_other 1\n'));

  it('is listed by ls as invalid, escaped, and check reports it', () => {
    const listed = promfile(['ls', '--dir', dir]);
    expect(listed.stdout).toContain('bad\\xff\\x1b.prom');
    expect(listed.stdout).not.toContain('\u001b');
    const checked = promfile(['check', '--dir', dir]);
    expect(checked.status).not.toBe(0);
    expect(checked.stdout + checked.stderr).toMatch(/bad\\xff\\x1b\.prom.*not valid UTF-8/);
  });

  it('a write beside it warns, naming it escaped', () => {
    const result = promfile(['set', '--dir', dir, '-f', 'mine', 'hostile_value', '1']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^promfile: warning: .*not valid UTF-8 \("bad\\xff\\x1b\.prom"\)/m);
  });
});
