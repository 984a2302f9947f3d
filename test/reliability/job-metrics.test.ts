// $PROMFILE_METRICS is the job's to fill, so it may be anything (issue 20
// item 5a): a FIFO, a link to /dev/zero or /dev/stdout, a huge file. `run`
// must read it bounded in time and memory, and record the run's status
// whatever it finds there.
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSeries } from '../../src/format/model.js';
import { parseExposition } from '../../src/format/parse.js';
import { BIN, NODE, ROOT, tempDir } from '../helpers/cli.js';

/** Every run here must end within this; a hang is a failure, not a stuck suite. */
const BOUND_MS = 20_000;

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(async () => cleanup?.());

/** `promfile run` with the job `script`; promfile is killed (status null) if it outlives BOUND_MS. */
function run(job: string, script: string): { status: number | null; stderr: string } {
  const result = spawnSync(NODE, [BIN, 'run', '--dir', dir, '--job', job, '--', 'sh', '-c', script], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: BOUND_MS,
    // SIGTERM is forwarded to the job, not fatal to run: only SIGKILL ends a hung promfile.
    killSignal: 'SIGKILL',
    // Kept a pipe that nobody writes to, so /dev/stdout would block a reader for ever.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return { status: result.status, stderr: result.stderr };
}

/** The run was recorded as ended (not left `running 1`) with exit code 0. */
async function expectRecorded(job: string): Promise<void> {
  const families = parseExposition(await readFile(join(dir, `${job}.prom`)));
  expect(getSeries(families, 'promfile_job_running', { job_name: job })?.value).toBe(0);
  expect(getSeries(families, 'promfile_job_exit_code', { job_name: job })?.value).toBe(0);
}

describe('$PROMFILE_METRICS that is not a regular file', () => {
  it.each([
    [
      'fifo',
      'rm -f "$PROMFILE_METRICS"; mkfifo "$PROMFILE_METRICS"',
      /\$PROMFILE_METRICS: \/\S+\/metrics\.prom is a FIFO, not a regular file/,
    ],
    [
      'stdout',
      'ln -s /dev/stdout "$PROMFILE_METRICS"',
      /\$PROMFILE_METRICS: \/\S+\/metrics\.prom is a symbolic link, which is not followed/,
    ],
    ['zero', 'ln -s /dev/zero "$PROMFILE_METRICS"', /\$PROMFILE_METRICS: \/\S+\/metrics\.prom is a symbolic link, which is not followed/],
    ['directory', 'mkdir "$PROMFILE_METRICS"', /\$PROMFILE_METRICS: \/\S+\/metrics\.prom is a directory, not a regular file/],
  ])('%s: a warning, nothing read, and the status still recorded', async (job, script, warning) => {
    const { status, stderr } = run(job, script);
    expect(status, stderr).toBe(0);
    expect(stderr).toMatch(warning);
    expect(stderr).toMatch(/the job's own metrics are ignored/);
    await expectRecorded(job);
  });
});

describe('$PROMFILE_METRICS over the size limit', () => {
  it('is a warning naming the limit; the metrics are ignored, the status recorded', async () => {
    // 17 MiB of a valid sample repeated would be read whole before.
    const { status, stderr } = run('huge', 'echo "job_items 1" > "$PROMFILE_METRICS"; truncate -s 17M "$PROMFILE_METRICS"');
    expect(status, stderr).toBe(0);
    expect(stderr).toMatch(
      /\$PROMFILE_METRICS: \/\S+\/metrics\.prom is larger than 16 MiB \(the limit\); the job's own metrics are ignored/,
    );
    await expectRecorded('huge');
    expect(await readFile(join(dir, 'huge.prom'), 'utf8')).not.toContain('job_items');
  });

  it('up to the limit is read as before', async () => {
    const { status, stderr } = run('fits', 'echo "job_items 3" > "$PROMFILE_METRICS"');
    expect({ status, stderr }).toEqual({ status: 0, stderr: '' });
    await expectRecorded('fits');
    expect(await readFile(join(dir, 'fits.prom'), 'utf8')).toContain('job_items{job_name="fits"} 3');
  });
});
