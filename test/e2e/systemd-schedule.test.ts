// run --on-calendar and run --timer end to end: the built CLI records the
// next run, and node_exporter serves it. The judge of --on-calendar is
// systemd-analyze itself, from the start time the run recorded; --timer reads
// a fake systemctl (no systemd runs as PID 1 here) printing what a real one prints.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSeries } from '../../src/format/model.js';
import { readExposition } from '../../src/format/parse.js';
import type { MetricFamily } from '../../src/format/types.js';
import { NODE_EXPORTER } from '../helpers/binaries.js';
import { BIN, promfile, tempDir } from '../helpers/cli.js';
import { scrapeError, useNodeExporter, type NodeExporter } from '../helpers/node-exporter.js';
import { fakeSystemctl, SYSTEMD_ANALYZE, systemdElapses, timerShow } from '../helpers/systemd.js';

const UNIT = 'apt-daily-upgrade.timer';
const DAY = 86_400_000;

const value = (families: readonly MetricFamily[], job: string, name: string): number | undefined =>
  getSeries(families, `promfile_job_${name}`, { job_name: job })?.value;

/** `Sat 2026-12-05 06:00:00 UTC`, as systemctl prints a timestamp with TZ=UTC. */
function systemdTimestamp(ms: number): string {
  const date = new Date(ms);
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][date.getUTCDay()] as string;
  return `${day} ${date.toISOString().slice(0, 10)} ${date.toISOString().slice(11, 19)} UTC`;
}

describe.skipIf(!NODE_EXPORTER || !SYSTEMD_ANALYZE)('run --on-calendar (through node_exporter)', () => {
  const suite = useNodeExporter();
  let dir: string;
  let exporter: NodeExporter;
  beforeAll(() => ({ dir, exporter } = suite));

  async function scrape(): Promise<MetricFamily[]> {
    const text = await exporter.scrape();
    expect(scrapeError(text), exporter.log()).toBe(0);
    return readExposition(text).families;
  }

  // [job, expression, zone: the TZ promfile runs in, or --tz]
  const CASES: ReadonlyArray<[string, string, { env?: string; tz?: string }]> = [
    ['quarter', '*:0/15', { env: 'Europe/Berlin' }],
    ['upgrade', '*-*-* 6:00', { env: 'America/New_York' }],
    ['weekdays', 'Mon..Fri 06:00', { tz: 'Europe/Berlin' }],
    ['first-saturday', 'Sat *-*-1..7 03:00', { env: 'UTC' }],
    ['zoned', '*-*-* 02:30 Europe/Berlin', { env: 'America/New_York' }],
  ];

  it.each(CASES)('%s: records the next elapse systemd-analyze lists after the recorded start (%s)', async (job, expression, zone) => {
    const args = ['run', '--dir', dir, '--job', job, '--on-calendar', expression, ...(zone.tz ? ['--tz', zone.tz] : []), '--', 'true'];
    const run = promfile(args, { env: zone.env ? { TZ: zone.env } : {} });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const families = await scrape();
    const start = value(families, job, 'last_start_timestamp_seconds') as number;
    const [first] = systemdElapses(expression, (zone.env ?? zone.tz) as string, new Date(start * 1000).toISOString(), 1);
    expect(value(families, job, 'next_run_timestamp_seconds')).toBe((first as number) / 1000);
    const interval = value(families, job, 'interval_seconds') as number;
    expect(value(families, job, 'grace_seconds')).toBe(Math.max(interval / 10, 60));
  });

  it('refuses an expression systemd refuses, and tells a calendar expression given to --schedule where it goes', () => {
    const bad = promfile(['run', '--dir', dir, '--job', 'bad', '--on-calendar', 'every day', '--', 'true']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('promfile: --on-calendar: calendar expression "every day": systemd does not accept it (Invalid argument)\n');
    const misplaced = promfile(['run', '--dir', dir, '--job', 'bad', '--schedule', 'Mon..Fri 06:00', '--', 'true']);
    expect(misplaced.status).toBe(2);
    expect(misplaced.stderr).toMatch(/a systemd calendar expression goes to --on-calendar\)\n$/);
    expect(existsSync(join(dir, 'bad.prom'))).toBe(false);
  });
});

describe.skipIf(!SYSTEMD_ANALYZE)('run --timer (a fake systemctl first on PATH)', () => {
  let dir: string;
  let bin: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    bin = join(dir, 'bin');
    await import('node:fs/promises').then(({ mkdir }) => mkdir(bin));
  });
  afterAll(async () => cleanup?.());

  const families = (job: string): MetricFamily[] => readExposition(readFileSync(join(dir, `${job}.prom`), 'utf8')).families;

  it("records systemd's next elapse, and a grace of a tenth of the interval plus RandomizedDelaySec and AccuracySec", async () => {
    const calendarNext = Math.ceil((Date.now() + 60_000 - 6 * 3_600_000) / DAY) * DAY + 6 * 3_600_000;
    const next = calendarNext + (41 * 60 + 17) * 1000;
    const PATH = await fakeSystemctl(bin, {
      stdout: timerShow({
        unit: UNIT,
        calendar: '*-*-* 06:00:00',
        calendarNext: systemdTimestamp(calendarNext),
        next: systemdTimestamp(next),
        lastTrigger: systemdTimestamp(calendarNext - DAY + 600_000),
        randomizedDelay: '1h',
        accuracy: '1min',
      }),
    });
    const run = promfile(['run', '--dir', dir, '--job', 'upgrade', '--timer', UNIT, '--', 'true'], { env: { PATH, TZ: 'UTC' } });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(value(families('upgrade'), 'upgrade', 'next_run_timestamp_seconds')).toBe(next / 1000);
    expect(value(families('upgrade'), 'upgrade', 'interval_seconds')).toBe(86_400);
    expect(value(families('upgrade'), 'upgrade', 'grace_seconds')).toBe(8_640 + 3_600 + 60);
  });

  it('inside the service a timer started: --timer alone is $TRIGGER_UNIT, the base is $TRIGGER_TIMER_REALTIME_USEC', async () => {
    const firedAt = Date.now() - 5_000;
    const PATH = await fakeSystemctl(bin, {
      stdout: timerShow({
        unit: UNIT,
        calendar: '*:0/15',
        calendarNext: 'n/a',
        next: '',
        lastTrigger: systemdTimestamp(firedAt - 3_600_000),
        randomizedDelay: '0',
        accuracy: '1s',
      }),
    });
    const env = { PATH, TZ: 'UTC', TRIGGER_UNIT: UNIT, TRIGGER_TIMER_REALTIME_USEC: String(firedAt * 1000) };
    const run = promfile(['run', '--dir', dir, '--job', 'triggered', '--timer', '--', 'true'], { env });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(readFileSync(join(bin, 'args'), 'utf8').split('\n').slice(0, 2)).toEqual(['show', UNIT]);
    const [expected] = systemdElapses('*:0/15', 'UTC', new Date(firedAt).toISOString(), 1);
    expect(value(families('triggered'), 'triggered', 'next_run_timestamp_seconds')).toBe((expected as number) / 1000);
    // A tenth of 15 minutes, plus AccuracySec=1s.
    expect(value(families('triggered'), 'triggered', 'interval_seconds')).toBe(900);
    expect(value(families('triggered'), 'triggered', 'grace_seconds')).toBe(90 + 1);
  });

  it('--timer alone outside a timer-started service says to name the unit', () => {
    const run = promfile(['run', '--dir', dir, '--job', 'manual', '--timer', '--', 'true'], { env: { TRIGGER_UNIT: undefined } });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^promfile: --timer without a unit .*give the unit/);
  });

  it('warns, and still runs the job, when the timer is not active', async () => {
    const PATH = await fakeSystemctl(bin, {
      stdout: timerShow({
        unit: UNIT,
        calendar: '*-*-* 06:00:00',
        calendarNext: 'n/a',
        next: '',
        lastTrigger: 'n/a',
        active: 'inactive',
      }),
    });
    const run = promfile(['run', '--dir', dir, '--job', 'inactive', '--timer', UNIT, '--', 'true'], { env: { PATH, TZ: 'UTC' } });
    expect(run.status).toBe(0);
    expect(run.stderr).toBe(
      `promfile: warning: timer ${UNIT} is inactive: systemd will not start the job (systemctl enable --now ${UNIT})\n`,
    );
  });

  it('fails before the job starts, leaving no file, when systemd cannot be asked', async () => {
    const unknown = await fakeSystemctl(bin, { stdout: 'Id=nosuch.timer\nLoadState=not-found\nActiveState=inactive\n' });
    const notFound = promfile(['run', '--dir', dir, '--job', 'failing', '--timer', 'nosuch', '--', 'touch', join(dir, 'ran')], {
      env: { PATH: unknown },
    });
    expect(notFound.status).toBe(2);
    expect(notFound.stderr).toMatch(/^promfile: --timer nosuch\.timer: systemd has no such timer \(LoadState=not-found\)/);
    const hanging = await fakeSystemctl(bin, { sleep: 30 });
    // systemctl's own bound is 10 s; the run stops by itself.
    const timedOut = promfile(['run', '--dir', dir, '--job', 'failing', '--timer', UNIT, '--', 'touch', join(dir, 'ran')], {
      env: { PATH: hanging },
    });
    expect(timedOut.status).toBe(1);
    expect(timedOut.stderr).toBe('promfile: systemctl did not answer within 10s\n');
    // Run by this Node itself: with a PATH that holds nothing, PROMFILE_TEST_NODE's wrapper script (Debian 12's
    // Node 18, CI) cannot find its own tools (dirname, readlink).
    const absent = spawnSync(
      process.execPath,
      [BIN, 'run', '--dir', dir, '--job', 'failing', '--timer', UNIT, '--', 'touch', join(dir, 'ran')],
      {
        encoding: 'utf8',
        env: { PATH: join(dir, 'nowhere') },
        timeout: 60_000,
      },
    );
    expect(absent.status).toBe(1);
    expect(absent.stderr).toMatch(/^promfile: --timer needs systemctl, which is not installed \(.*--on-calendar or --schedule.*\)\n$/);
    expect(existsSync(join(dir, 'failing.prom'))).toBe(false);
    expect(existsSync(join(dir, 'ran'))).toBe(false);
  });
});
