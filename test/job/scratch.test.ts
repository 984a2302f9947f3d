// The private directory of $PROMFILE_METRICS (issue 20 item 5b): a run
// removes only what it made, by its own descriptor, and never judges another
// directory in $TMPDIR stale (its pid may be alive in another PID namespace,
// or the entry a user's trap).
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { promfile, tempDir } from '../helpers/cli.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(async () => cleanup?.());

let scratchRoot: string;
let textfiles: string;
let n = 0;
beforeEach(async () => {
  n += 1;
  scratchRoot = join(dir, `tmp${n}`);
  textfiles = join(dir, `textfiles${n}`);
  await mkdir(scratchRoot);
  await mkdir(textfiles);
});

const run = (script: string): ReturnType<typeof promfile> =>
  promfile(['run', '--job', 'j', '--', 'sh', '-c', script], { env: { TMPDIR: scratchRoot, PROMFILE_DIR: textfiles } });

describe('the scratch directory of $PROMFILE_METRICS', () => {
  it('is made private in $TMPDIR and removed when the run ends', async () => {
    const result = run('echo "$PROMFILE_METRICS"; ls -ld "$(dirname "$PROMFILE_METRICS")"; echo "m 1" >> "$PROMFILE_METRICS"');
    expect(result.status, result.stderr).toBe(0);
    const [file, listing] = result.stdout.split('\n');
    expect(file).toMatch(new RegExp(`^${scratchRoot}/promfile-run-[^/]+/metrics\\.prom$`));
    expect(listing).toMatch(/^drwx------ /);
    expect(await readdir(scratchRoot)).toEqual([]);
    expect(await readFile(join(textfiles, 'j.prom'), 'utf8')).toContain('m{job_name="j"} 1');
  });

  it("leaves other directories alone, even ones named like a dead run's (its pid may live in another PID namespace)", async () => {
    // No process here has pid 4194304 (above Linux's pid_max): the old sweeper removed this.
    const other = join(scratchRoot, 'promfile-run-4194304-AbC123');
    await mkdir(other);
    await writeFile(join(other, 'metrics.prom'), 'live 1\n');
    const trap = join(scratchRoot, 'promfile-run-4194305-XyZ789');
    await symlink(other, trap);
    const result = run('true');
    expect(result.status, result.stderr).toBe(0);
    expect((await readdir(scratchRoot)).sort()).toEqual(['promfile-run-4194304-AbC123', 'promfile-run-4194305-XyZ789']);
    expect(await readFile(join(other, 'metrics.prom'), 'utf8')).toBe('live 1\n');
  });

  it('is left, with a warning, when the job put other files in it; only the metrics file is removed', async () => {
    const result = run('echo "m 1" >> "$PROMFILE_METRICS"; echo keep > "$(dirname "$PROMFILE_METRICS")/notes"');
    expect(result.status, result.stderr).toBe(0);
    const [left] = await readdir(scratchRoot);
    expect(left).toMatch(/^promfile-run-/);
    expect(await readdir(join(scratchRoot, left as string))).toEqual(['notes']);
    expect(result.stderr).toMatch(
      new RegExp(`warning: the job left other files in ${join(scratchRoot, left as string)}; it was not removed`),
    );
  });

  it('cannot be turned into a link elsewhere: the clean-up removes nothing outside the directory it made', async () => {
    const victim = join(dir, `victim${n}`);
    await mkdir(victim);
    await writeFile(join(victim, 'metrics.prom'), 'precious\n');
    // The job moves its scratch directory away and leaves a link to the victim at its path.
    const result = run(`d="$(dirname "$PROMFILE_METRICS")"; mv "$d" "$d.moved"; ln -s ${victim} "$d"`);
    expect(result.status, result.stderr).toBe(0);
    expect(await readFile(join(victim, 'metrics.prom'), 'utf8')).toBe('precious\n');
    expect(result.stderr).toMatch(/warning: the job moved \S+ away; it and what is at its path now were left as they are/);
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
