// A run killed with SIGKILL cannot remove its $PROMFILE_METRICS directory;
// the next run does.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, promfile, ROOT, tempDir } from '../helpers/cli.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(async () => cleanup?.());

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error('timed out waiting');
}

describe('the scratch directory of $PROMFILE_METRICS', () => {
  it('left by a killed run is removed by the next run', async () => {
    const scratchRoot = join(dir, 'tmp');
    const textfiles = join(dir, 'textfiles');
    await mkdir(scratchRoot);
    await mkdir(textfiles);
    const env = { ...process.env, TMPDIR: scratchRoot, PROMFILE_DIR: textfiles };
    const killed = spawn(
      process.execPath,
      [BIN, 'run', '--job', 'k', '--', 'sh', '-c', `echo $$ > ${join(dir, 'job.pid')}; echo "m 1" >> "$PROMFILE_METRICS"; exec sleep 30`],
      {
        cwd: ROOT,
        env,
        stdio: 'ignore',
      },
    );
    await waitFor(
      async () =>
        (await readdir(scratchRoot)).length === 1 &&
        (await readdir(join(scratchRoot, (await readdir(scratchRoot))[0] as string))).length === 1,
    );
    const [left] = await readdir(scratchRoot);
    expect(left).toMatch(new RegExp(`^promfile-run-${killed.pid}-`));
    const exited = once(killed, 'exit');
    killed.kill('SIGKILL');
    await exited;
    expect((await stat(join(scratchRoot, left as string))).isDirectory()).toBe(true);

    const next = promfile(['run', '--job', 'n', '--', 'true'], { env: { TMPDIR: scratchRoot, PROMFILE_DIR: textfiles } });
    expect(next.status).toBe(0);
    expect(await readdir(scratchRoot)).toEqual([]);
    // The orphaned job, by its pid (it exec'd sleep).
    process.kill(Number(await readFile(join(dir, 'job.pid'), 'utf8')), 'SIGKILL');
  });
});

describe('--owner ids', () => {
  it.skipIf(process.getuid?.() !== 0)('outside 0..4294967294 are refused, not silently ignored by chown', () => {
    for (const owner of ['4294967295:4294967295', '0:4294967295', '99999999999']) {
      const result = promfile(['set', '--dir', dir, '-f', 'owned', '--owner', owner, 'm', '1']);
      expect(result.status, owner).toBe(2);
      expect(result.stderr).toMatch(/id \d+ is out of range \(0 to 4294967294\)/);
    }
    expect(promfile(['set', '--dir', dir, '-f', 'owned', '--owner', '4294967294:0', 'm', '1']).status).toBe(0);
  });
});
