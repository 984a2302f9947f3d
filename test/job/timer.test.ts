// run --timer: what `systemctl show` says of a timer, read as systemd means
// it. No systemd runs as PID 1 here, so a fake systemctl first on PATH prints
// recorded answers; the calendar elapses are still systemd-analyze's own.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, IoError, PromfileError } from '../../src/errors.js';
import { scheduleTimes } from '../../src/job/schedule.js';
import { parseTimerShow, parseTimespan, readTimer, timerSchedule, timerUnitName, TIMER_PROPERTIES } from '../../src/job/timer.js';
import { tempDir } from '../helpers/cli.js';
import { fakeSystemctl, SYSTEMD_ANALYZE, systemdElapses, timerShow } from '../helpers/systemd.js';

const H = 3_600_000;
const UNIT = 'apt-daily-upgrade.timer';
/** apt-daily-upgrade.timer waiting for tomorrow's 06:00, 41 minutes 17 seconds of random delay drawn. */
const WAITING = timerShow({
  unit: UNIT,
  calendar: '*-*-* 06:00:00',
  calendarNext: 'Sun 2026-12-06 06:00:00 UTC',
  next: 'Sun 2026-12-06 06:41:17 UTC',
  lastTrigger: 'Sat 2026-12-05 06:12:03 UTC',
  randomizedDelay: '1h',
  accuracy: '1min',
});
/** The same timer while the service it started runs: systemd has not computed the next elapse yet. */
const RUNNING = timerShow({
  unit: UNIT,
  calendar: '*-*-* 06:00:00',
  calendarNext: 'Sat 2026-03-28 05:00:00 UTC',
  next: '',
  lastTrigger: 'Sat 2026-03-28 05:23:45 UTC',
  randomizedDelay: '1h',
  accuracy: '1min',
});

function caught(run: () => unknown): PromfileError {
  try {
    run();
  } catch (error) {
    if (error instanceof PromfileError) return error;
    throw error;
  }
  throw new Error('it did not throw');
}

describe('reading systemctl show', () => {
  it('reads systemd timespans as format_timespan writes them', () => {
    expect(parseTimespan('0')).toBe(0);
    expect(parseTimespan('1min')).toBe(60_000);
    expect(parseTimespan('1h')).toBe(H);
    expect(parseTimespan('1h 30min')).toBe(1.5 * H);
    expect(parseTimespan('1d 2h')).toBe(26 * H);
    expect(parseTimespan('2.500000s')).toBe(2500);
    expect(parseTimespan('500ms')).toBe(500);
    expect(parseTimespan('infinity')).toBe(Infinity);
    expect(parseTimespan('soon')).toBeUndefined();
  });

  it('names the timer unit: a bare name gets .timer, another unit type is refused', () => {
    expect(timerUnitName('apt-daily-upgrade')).toBe(UNIT);
    expect(timerUnitName(UNIT)).toBe(UNIT);
    expect(timerUnitName('backup@home.timer')).toBe('backup@home.timer');
    expect(() => timerUnitName('apt-daily-upgrade.service')).toThrow(InputError);
    expect(() => timerUnitName('a b')).toThrow(InputError);
  });

  it('reads a waiting timer: calendar, next elapse with its random delay, last trigger, delays, Persistent', () => {
    const info = parseTimerShow(UNIT, WAITING);
    expect(info).toEqual({
      unit: UNIT,
      activeState: 'active',
      calendars: [{ spec: '*-*-* 06:00:00', nextMs: Date.parse('2026-12-06T06:00:00Z') }],
      nextElapseMs: Date.parse('2026-12-06T06:41:17Z'),
      lastTriggerMs: Date.parse('2026-12-05T06:12:03Z'),
      randomizedDelayMs: H,
      accuracyMs: 60_000,
      persistent: true,
    });
    expect(parseTimerShow(UNIT, RUNNING).nextElapseMs).toBeUndefined();
  });

  it('refuses a unit systemd has not loaded', () => {
    const error = caught(() => parseTimerShow('nosuch.timer', 'Id=nosuch.timer\nLoadState=not-found\nActiveState=inactive\n'));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(/no such timer \(LoadState=not-found\).*systemctl list-timers/);
  });
});

describe.skipIf(!SYSTEMD_ANALYZE)('the timer as a schedule', () => {
  it("records systemd's own next elapse, the calendar's interval, and a grace that covers the random delay and accuracy", () => {
    const schedule = timerSchedule(parseTimerShow(UNIT, WAITING), { env: { ...process.env, TZ: 'UTC' } });
    const times = scheduleTimes(schedule, Date.parse('2026-12-05T10:00:00Z'));
    expect(times?.nextMs).toBe(Date.parse('2026-12-06T06:41:17Z'));
    expect(times?.intervalMs).toBe(24 * H);
    // A tenth of the interval, plus RandomizedDelaySec=1h and AccuracySec=1min.
    expect(times?.graceMs).toBe(2.4 * H + H + 60_000);
    expect(scheduleTimes(schedule, Date.parse('2026-12-05T10:00:00Z'), 5 * 60_000)?.graceMs).toBe(5 * 60_000);
  });

  it('inside the service the timer started, computes the next elapse from the last trigger as systemd will (a DST day)', () => {
    const env = { ...process.env, TZ: 'Europe/Berlin' };
    const schedule = timerSchedule(parseTimerShow(UNIT, RUNNING), { env });
    const [expected] = systemdElapses('*-*-* 06:00:00', 'Europe/Berlin', '2026-03-28T05:23:45Z', 1);
    expect(expected).toBe(Date.parse('2026-03-29T04:00:00Z'));
    const times = scheduleTimes(schedule, Date.parse('2026-03-28T05:23:46Z'));
    expect(times?.nextMs).toBe(expected);
    // 06:00 CET to 06:00 CEST.
    expect(times?.intervalMs).toBe(23 * H);
    // $TRIGGER_TIMER_REALTIME_USEC, when systemd gives it, is the base.
    const fired = timerSchedule(parseTimerShow(UNIT, RUNNING), { env, triggeredAtMs: Date.parse('2026-03-29T04:00:30Z') });
    expect(fired.next(Date.parse('2026-03-29T04:00:31Z'))).toBe(
      systemdElapses('*-*-* 06:00:00', 'Europe/Berlin', '2026-03-29T04:00:30Z', 1)[0],
    );
  });

  it('takes LastTriggerUSec when $TRIGGER_TIMER_REALTIME_USEC is older (systemd 252 keeps the first trigger there)', () => {
    // As a booted systemd 252 gives it: a timer firing every 10 s, its service's environment
    // still naming the first fire, 12:47:56.517464, while LastTriggerUSec is this fire, 12:48:20.
    const show = timerShow({
      unit: UNIT,
      calendar: '*-*-* *:*:00/10',
      calendarNext: 'Sat 2026-12-05 12:48:20 UTC',
      next: '',
      lastTrigger: 'Sat 2026-12-05 12:48:20 UTC',
      accuracy: '1s',
    });
    const schedule = timerSchedule(parseTimerShow(UNIT, show), {
      env: { ...process.env, TZ: 'UTC' },
      triggeredAtMs: Math.floor(1796474876517464 / 1000),
    });
    const next = schedule.next(Date.parse('2026-12-05T12:48:20.600Z'));
    expect(next).toBe(systemdElapses('*-*-* *:*:00/10', 'UTC', '2026-12-05T12:48:20Z', 1)[0]);
    expect(next).toBe(Date.parse('2026-12-05T12:48:30Z'));
  });

  it('takes the earliest of several OnCalendar= expressions', () => {
    const show = RUNNING.replace(
      /^TimersCalendar=.*$/m,
      'TimersCalendar={ OnCalendar=Mon..Fri *-*-* 06:00:00 ; next_elapse=n/a }\nTimersCalendar={ OnCalendar=Sat,Sun *-*-* 09:00:00 ; next_elapse=n/a }',
    );
    const info = parseTimerShow(UNIT, show);
    expect(info.calendars.map(({ spec }) => spec)).toEqual(['Mon..Fri *-*-* 06:00:00', 'Sat,Sun *-*-* 09:00:00']);
    // Saturday 28 March 05:23:45 UTC: the weekend's 09:00 comes first.
    const next = timerSchedule(info, { env: { ...process.env, TZ: 'UTC' } }).next(Date.parse('2026-03-28T05:23:46Z'));
    expect(next).toBe(Date.parse('2026-03-28T09:00:00Z'));
  });

  it('refuses a timer without a calendar and without a next elapse, naming --every', () => {
    const info = parseTimerShow(UNIT, RUNNING.replace(/^TimersCalendar=.*\n/m, ''));
    expect(() => timerSchedule(info, { env: process.env })).toThrow(/no OnCalendar= schedule.*--every/);
  });
});

describe('asking systemctl', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir()));
  afterAll(async () => cleanup?.());

  it('runs systemctl show for the unit with the properties it reads, timestamps in UTC and the C locale', async () => {
    const PATH = await fakeSystemctl(dir, { stdout: WAITING });
    const info = readTimer(UNIT, { env: { PATH, TZ: 'Europe/Berlin' } });
    expect(info.nextElapseMs).toBe(Date.parse('2026-12-06T06:41:17Z'));
    const args = (await readFile(join(dir, 'args'), 'utf8')).trim().split('\n');
    expect(args).toEqual(['show', UNIT, ...TIMER_PROPERTIES.flatMap((property) => ['-p', property])]);
    const env = await readFile(join(dir, 'env'), 'utf8');
    expect(env).toMatch(/^TZ=UTC$/m);
    expect(env).toMatch(/^LC_ALL=C$/m);
  });

  it('a unit systemd does not know is an input error', async () => {
    const PATH = await fakeSystemctl(dir, { stdout: 'Id=nosuch.timer\nLoadState=not-found\nActiveState=inactive\n' });
    expect(caught(() => readTimer('nosuch.timer', { env: { PATH } }))).toBeInstanceOf(InputError);
  });

  it('a system without a running systemd: systemctl fails, and its reason is passed on', async () => {
    const PATH = await fakeSystemctl(dir, {
      stderr: "System has not been booted with systemd as init system (PID 1). Can't operate.\nFailed to connect to bus: Host is down\n",
      status: 1,
    });
    const error = caught(() => readTimer(UNIT, { env: { PATH } }));
    expect(error).toBeInstanceOf(IoError);
    expect(error.code).toBe('ERR_SYSTEMD_UNAVAILABLE');
    expect(error.message).toBe(
      `--timer ${UNIT}: systemctl show failed: System has not been booted with systemd as init system (PID 1). Can't operate.`,
    );
  });

  it('systemctl absent: a clear error naming the alternatives', async () => {
    const { dir: empty, cleanup: remove } = await tempDir();
    try {
      const error = caught(() => readTimer(UNIT, { env: { PATH: empty } }));
      expect(error.code).toBe('ERR_SYSTEMD_UNAVAILABLE');
      expect(error.message).toMatch(/--timer needs systemctl, which is not installed.*--on-calendar or --schedule/);
    } finally {
      await remove();
    }
  });

  it('a systemctl that does not answer is given up on within the bound', async () => {
    const PATH = await fakeSystemctl(dir, { sleep: 30 });
    const started = Date.now();
    const error = caught(() => readTimer(UNIT, { env: { PATH }, timeoutMs: 300 }));
    expect(error.code).toBe('ERR_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
