// run's schedule flags, observe and rules, in process with the injected clock.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { tempDir } from '../helpers/cli.js';
import { createTestIo } from '../helpers/io.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(async () => cleanup?.());

const NOW = Date.parse('2026-06-11T01:17:04Z');

async function cli(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const t = createTestIo({ env: { PROMFILE_DIR: dir }, now: NOW });
  const status = await main(args, t.io);
  return { status, stdout: t.stdout(), stderr: t.stderr() };
}

describe('run --schedule / --every', () => {
  it('records next run, interval and grace in the zone given', async () => {
    expect(await cli(['run', '--job', 'daily', '--schedule', 'CRON_TZ=Europe/Berlin 17 3 * * *', '--', 'true'])).toMatchObject({
      status: 0,
      stderr: '',
    });
    const text = await readFile(join(dir, 'daily.prom'), 'utf8');
    expect(text).toContain(`promfile_job_next_run_timestamp_seconds{job_name="daily"} ${Date.parse('2026-06-12T01:17:00Z') / 1000}\n`);
    expect(text).toContain('promfile_job_interval_seconds{job_name="daily"} 86400\n');
    expect(text).toContain('promfile_job_grace_seconds{job_name="daily"} 8640\n');
    expect(await cli(['run', '--job', 'tz', '--tz', 'America/New_York', '--schedule', '@daily', '--', 'true'])).toMatchObject({
      status: 0,
    });
    expect(await readFile(join(dir, 'tz.prom'), 'utf8')).toContain(`{job_name="tz"} ${Date.parse('2026-06-11T04:00:00Z') / 1000}\n`);
  });

  it('--every with --grace', async () => {
    expect(await cli(['run', '--job', 'often', '--every', '15m', '--grace', '30s', '--', 'true'])).toMatchObject({ status: 0 });
    const text = await readFile(join(dir, 'often.prom'), 'utf8');
    expect(text).toContain(`promfile_job_next_run_timestamp_seconds{job_name="often"} ${NOW / 1000 + 900}\n`);
    expect(text).toContain('promfile_job_grace_seconds{job_name="often"} 30\n');
  });

  it("--stale-after: the job's own staleness bound, in seconds", async () => {
    expect(await cli(['run', '--job', 'weekly', '--stale-after', '8d', '--', 'true'])).toMatchObject({ status: 0, stderr: '' });
    expect(await readFile(join(dir, 'weekly.prom'), 'utf8')).toContain('promfile_job_stale_after_seconds{job_name="weekly"} 691200\n');
  });

  it.each([
    [['--schedule', '@reboot'], /--schedule: schedule "@reboot": @reboot is not a time schedule/],
    [['--schedule', '0 0 * * *', '--every', '1h'], /--schedule and --every cannot be used together/],
    [['--grace', '5m'], /--grace needs --schedule, --on-calendar, --timer or --every/],
    [['--schedule', 'CRON_TZ=UTC @daily', '--tz', 'Europe/Berlin'], /sets time zone UTC but --tz says Europe\/Berlin/],
    [['--schedule', '@daily', '--tz', 'Nowhere/Town'], /--tz "Nowhere\/Town" is not a time zone/],
    [['--every', '0s'], /--every "0s" must be more than 0/],
    [['--duration-buckets', '5,1'], /--duration-buckets "5,1": expected increasing numbers/],
    [['--stale-after', '0s'], /--stale-after "0s" must be more than 0/],
    [['--stale-after', '3'], /--stale-after "3" needs a unit/],
  ])('%j: exit 2 before the job runs, nothing written', async (flags, message) => {
    const result = await cli(['run', '--job', 'bad', ...flags, '--', 'sh', '-c', `touch ${join(dir, 'ran')}`]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    await expect(readFile(join(dir, 'bad.prom'))).rejects.toThrow(/ENOENT/);
    await expect(readFile(join(dir, 'ran'))).rejects.toThrow(/ENOENT/);
  });
});

describe('observe', () => {
  it('adds observations across calls, and warns when the layout changes', async () => {
    expect(await cli(['observe', '-f', 'sizes', 'backup_bytes', '300', '--buckets', '100,1000', '-l', 'disk=a'])).toMatchObject({
      status: 0,
      stderr: '',
    });
    expect(await cli(['observe', '-f', 'sizes', 'backup_bytes{disk="a"}', '50'])).toMatchObject({ status: 0, stderr: '' });
    let text = await readFile(join(dir, 'sizes.prom'), 'utf8');
    expect(text).toContain('backup_bytes_bucket{disk="a",le="100"} 1\nbackup_bytes_bucket{disk="a",le="1000"} 2\n');
    expect(text).toContain('backup_bytes_count{disk="a"} 2\n');
    const changed = await cli(['observe', '-f', 'sizes', 'backup_bytes{disk="a"}', '50', '--buckets', '10,100']);
    expect(changed.stderr).toMatch(/bucket layout changed, so its counts started again from zero/);
    text = await readFile(join(dir, 'sizes.prom'), 'utf8');
    expect(text).toContain('backup_bytes_count{disk="a"} 1\n');
  });

  it('refuses a value that is not a finite number, and a gauge of that name', async () => {
    const before = await readFile(join(dir, 'sizes.prom'), 'utf8');
    expect(await cli(['observe', '-f', 'sizes', 'backup_bytes', 'NaN'])).toMatchObject({
      status: 2,
      stderr: 'promfile: value "NaN": expected a finite number\n',
    });
    expect(await cli(['set', '-f', 'g', 'temp', '1'])).toMatchObject({ status: 0 });
    expect((await cli(['observe', '-f', 'g', 'temp', '1'])).stderr).toMatch(/"temp" is a gauge in the file, not a histogram/);
    expect(await readFile(join(dir, 'sizes.prom'), 'utf8')).toBe(before);
  });
});

describe('rules', () => {
  it('--job names the jobs; without it the rules name none and read no directory', async () => {
    const { stdout } = await cli(['rules', '--job', 'daily', '--job', 'often']);
    expect(stdout).toContain('job_name=~"daily|often"');
    const t = createTestIo({ env: { PROMFILE_DIR: join(dir, 'missing') } });
    expect(await main(['rules', '--for', '30s'], t.io)).toBe(0);
    expect(t.stderr()).toBe('');
    expect(t.stdout()).not.toContain('job_name=~');
    expect(t.stdout().match(/^ +for: .*$/gm)).toEqual(Array(5).fill('        for: 30s'));
  });

  it('refuses a --for that is not a duration', async () => {
    expect(await cli(['rules', '--for', 'soon'])).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/^promfile: --for "soon"/) as unknown,
    });
  });
});
