// `write` as cron uses it: Debian's real collector scripts, piped in or run
// by promfile itself, over a directory the real node_exporter reads.
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_EXPORTER } from '../helpers/binaries.js';
import { promfile, tempDir } from '../helpers/cli.js';
import { samplesOf, scrapeError, startNodeExporter } from '../helpers/node-exporter.js';

const COLLECTORS = '/usr/share/prometheus-node-exporter-collectors';
const FSTAB_CHECK = join(COLLECTORS, 'fstab-check.sh');
const APT_INFO = join(COLLECTORS, 'apt_info.py');
if (!existsSync(FSTAB_CHECK) && process.env['CI'] === 'true')
  throw new Error('prometheus-node-exporter-collectors is not installed, and CI=true makes that a failure (see .ci/run)');
const HAVE_COLLECTORS = existsSync(FSTAB_CHECK);

const FULL =
  '# HELP apt_upgrades_pending Pending upgrades.\n# TYPE apt_upgrades_pending gauge\napt_upgrades_pending{origin="security"} 12\napt_upgrades_pending{origin="main"} 3\n';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(async () => cleanup?.());

/** What the real node_exporter exposes from `directory`. */
async function scrapeOnce(directory: string): Promise<string> {
  const exporter = await startNodeExporter(directory);
  try {
    return await exporter.scrape();
  } finally {
    await exporter.stop();
  }
}

async function seed(name: string, content = FULL): Promise<string> {
  const path = join(dir, `${name}.prom`);
  await writeFile(path, content);
  return path;
}

describe('write refuses input cut off half-way', () => {
  it('stdin without a final newline: exit 2, the rule named, the old file byte-identical', async () => {
    const path = await seed('trunc');
    const result = promfile(['write', '--dir', dir, '-f', 'trunc'], { input: 'apt_upgrades_pending{origin="security"} 1' });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^promfile: <stdin>: line 1: .*newline.*truncated.*\n$/);
    expect(await readFile(path, 'utf8')).toBe(FULL);
    expect(await readdir(dir)).not.toContainEqual(expect.stringMatching(/tmp/));
  });

  it('push refuses it too, before any request', () => {
    const result = promfile(['push', '--gateway', 'http://127.0.0.1:9', '--job', 'j'], { input: 'm 1' });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/truncated/);
  });

  it("a job's $PROMFILE_METRICS without a final newline is dropped with a warning; the run is recorded", async () => {
    const result = promfile(['run', '--dir', dir, '--job', 'cut', '--', 'sh', '-c', 'printf "job_items 5" >> "$PROMFILE_METRICS"']);
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/\$PROMFILE_METRICS.*newline/);
    const text = await readFile(join(dir, 'cut.prom'), 'utf8');
    expect(text).toContain('promfile_job_exit_code{job_name="cut"} 0');
    expect(text).not.toContain('job_items');
  });
});

describe.skipIf(!HAVE_COLLECTORS || !NODE_EXPORTER)("a collector with nothing to report (Debian's fstab-check.sh)", () => {
  it('replaces the old series, and node_exporter then exposes none of them', async () => {
    const failed =
      '# HELP node_fstab_mount_status List and status of filesystem mountpoints (0 = not mounted, 1 = mounted)\n# TYPE node_fstab_mount_status gauge\nnode_fstab_mount_status{mountpoint="/mnt/backup"} 0\n';
    const path = await seed('fstab', failed);
    const generated = spawnSync(FSTAB_CHECK, { encoding: 'utf8' });
    expect(generated.status).toBe(0);
    expect(generated.stdout).toMatch(/^# HELP node_fstab_mount_status/); // HELP/TYPE, and no samples on this machine
    const piped = promfile(['write', '--dir', dir, '-f', 'fstab'], { input: generated.stdout });
    expect(piped).toMatchObject({ status: 0, stderr: '' });
    await writeFile(path, failed);
    const run = promfile(['write', '--dir', dir, '-f', 'fstab', '--', FSTAB_CHECK]);
    expect(run).toMatchObject({ status: 0, stderr: '' });
    const scrape = await scrapeOnce(dir);
    expect(samplesOf(scrape, 'node_fstab_mount_status')).toEqual([]);
    expect(scrapeError(scrape)).toBe(0);
  });

  it('zero bytes of input are still refused without --allow-empty', async () => {
    const path = await seed('zero');
    expect(promfile(['write', '--dir', dir, '-f', 'zero'], { input: '' }).status).toBe(2);
    expect(await readFile(path, 'utf8')).toBe(FULL);
    expect(promfile(['write', '--dir', dir, '-f', 'zero', '--allow-empty'], { input: '' }).status).toBe(0);
    expect(await readFile(path, 'utf8')).toBe('');
  });
});

describe('write -- COMMAND runs the generator and keeps the old file when it fails', () => {
  it('a generator that prints valid output and exits 1: exit 1, file kept, the reason said', async () => {
    const path = await seed('gen');
    const result = promfile(['write', '--dir', dir, '-f', 'gen', '--', 'python3', '-c', 'print("a 10"); raise SystemExit(1)']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^promfile: python3 exited with status 1; .*gen\.prom was not changed\n$/);
    expect(await readFile(path, 'utf8')).toBe(FULL);
  });

  it("passes the generator's stderr through and writes on exit 0", async () => {
    await seed('ok');
    const result = promfile(['write', '--dir', dir, '-f', 'ok', '--', 'sh', '-c', 'echo working >&2; echo "a 10"']);
    expect(result).toMatchObject({ status: 0, stdout: '', stderr: 'working\n' });
    expect(await readFile(join(dir, 'ok.prom'), 'utf8')).toBe('# TYPE a untyped\na 10\n');
  });

  it('invalid output from a successful generator: exit 2 and the file kept', async () => {
    const path = await seed('bad');
    const result = promfile(['write', '--dir', dir, '-f', 'bad', '--', 'sh', '-c', 'echo "a 1 2 3"']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^promfile: sh: line 1: /);
    expect(await readFile(path, 'utf8')).toBe(FULL);
  });

  it('--timeout ends the whole process group: exit 124, file kept, no process left', async () => {
    const path = await seed('slow');
    const result = promfile([
      'write',
      '--dir',
      dir,
      '-f',
      'slow',
      '--timeout',
      '500ms',
      '--',
      'sh',
      '-c',
      'echo "a 1"; sleep 371 & sleep 382',
    ]);
    expect(result.status).toBe(124);
    expect(result.stderr).toMatch(/timed out after 500ms/);
    expect(await readFile(path, 'utf8')).toBe(FULL);
    const left = spawnSync('pgrep', ['-f', '^sleep (371|382)$'], { encoding: 'utf8' });
    expect(left.stdout).toBe('');
  });

  it('a command that does not exist: exit 127', async () => {
    const path = await seed('missing');
    const result = promfile(['write', '--dir', dir, '-f', 'missing', '--', 'no-such-generator-xyz']);
    expect(result.status).toBe(127);
    expect(await readFile(path, 'utf8')).toBe(FULL);
  });

  it.skipIf(!existsSync(APT_INFO))("Debian's apt_info.py: written when it works, the old file kept when it fails", async () => {
    // A directory of its own: the other cases' files give apt_upgrades_pending another HELP, a conflict
    // promfile rightly refuses (exit 2) wherever python3-apt lets the script succeed.
    const own = await tempDir();
    try {
      const path = join(own.dir, 'apt.prom');
      await writeFile(path, FULL);
      const direct = spawnSync('python3', [APT_INFO], { encoding: 'utf8' });
      const result = promfile(['write', '--dir', own.dir, '-f', 'apt', '--', APT_INFO]);
      expect(result.status, `promfile: ${result.stderr}\napt_info.py alone: ${direct.stderr}`).toBe(direct.status);
      if (direct.status === 0) {
        expect(await readFile(path, 'utf8')).toMatch(/^# HELP apt_/m);
      } else {
        // Here python3-apt is missing: the script dies with a traceback, which must not reach the file.
        expect(result.stderr).toMatch(/apt_info\.py exited with status \d+; .* was not changed/);
        expect(await readFile(path, 'utf8')).toBe(FULL);
      }
    } finally {
      await own.cleanup();
    }
  });
});

describe.skipIf(!NODE_EXPORTER)('run: the file shows the last run', () => {
  it('a changed -l label set replaces the old series; metrics an earlier run wrote are dropped', async () => {
    const run = (origin: string, script: string): number | null =>
      promfile(['run', '--dir', dir, '--job', 'relabel', '-l', `origin=${origin}`, '--', 'sh', '-c', script]).status;
    expect(run('old', 'echo "items_done 3" >> "$PROMFILE_METRICS"; echo "items_old 1" >> "$PROMFILE_METRICS"')).toBe(0);
    expect(run('new', 'echo "items_done 4" >> "$PROMFILE_METRICS"')).toBe(0);
    const scrape = await scrapeOnce(dir);
    {
      // One last-success series, the new one: the JobNotSucceeding alert of docs/cron-jobs.md cannot fire for the old label set.
      const lastSuccess = samplesOf(scrape, 'promfile_job_last_success_timestamp_seconds').filter((line) => line.includes('"relabel"'));
      expect(lastSuccess).toEqual([
        expect.stringMatching(/^promfile_job_last_success_timestamp_seconds\{job_name="relabel",origin="new"\} \d/),
      ]);
      expect(samplesOf(scrape, 'items_done')).toEqual(['items_done{job_name="relabel",origin="new"} 4']);
      expect(samplesOf(scrape, 'items_old')).toEqual([]);
    }
  });
});
