// run --on-calendar against systemd itself: for each expression, zone and
// fixed base time (DST changes of Berlin and New York included), the elapses
// promfile computes equal the ones `systemd-analyze calendar` lists when the
// test asks it directly (a text base time, its own reading of the output).
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, IoError } from '../../src/errors.js';
import { parseCalendarOutput, parseCalendarSchedule } from '../../src/job/calendar.js';
import { scheduleTimes } from '../../src/job/schedule.js';
import { tempDir } from '../helpers/cli.js';
import { SYSTEMD_ANALYZE, systemdElapses } from '../helpers/systemd.js';

const BERLIN = 'Europe/Berlin';
const NEW_YORK = 'America/New_York';
const H = 3_600_000;
/** The process's environment without a TZ of its own: each case sets the zone. */
const ENV = { ...process.env, TZ: undefined };

// [expression, zone systemd-analyze runs in, base time (UTC)]
// Berlin 2026: 03-29 01:00Z (CET -> CEST), 10-25 01:00Z; New York 2026: 03-08 07:00Z, 11-01 06:00Z.
const CASES: ReadonlyArray<[string, string, string]> = [
  ['*-*-* 02:30', BERLIN, '2026-03-28T12:00:00Z'],
  ['*-*-* 02:30', BERLIN, '2026-10-24T12:00:00Z'],
  ['*-*-* 02:30', NEW_YORK, '2026-03-07T12:00:00Z'],
  ['*-*-* 01:30', NEW_YORK, '2026-10-31T12:00:00Z'],
  ['Mon..Fri 06:00', BERLIN, '2026-03-27T12:00:00Z'],
  ['Mon..Fri 06:00', NEW_YORK, '2026-10-30T12:00:00Z'],
  ['*-*-* 6:00', BERLIN, '2026-10-24T12:00:00Z'],
  ['*-*-* 6:00', NEW_YORK, '2026-03-07T12:00:00Z'],
  ['daily', BERLIN, '2026-03-28T12:00:00Z'],
  ['daily', NEW_YORK, '2026-10-31T12:00:00Z'],
  ['weekly', BERLIN, '2026-03-25T12:00:00Z'],
  ['weekly', NEW_YORK, '2026-10-28T12:00:00Z'],
  ['hourly', BERLIN, '2026-03-29T00:30:00Z'],
  ['hourly', BERLIN, '2026-10-25T00:30:00Z'],
  ['hourly', NEW_YORK, '2026-11-01T05:30:00Z'],
  ['*:0/15', BERLIN, '2026-03-29T00:50:00Z'],
  ['*:0/15', NEW_YORK, '2026-03-08T06:50:00Z'],
  ['Sat *-*-1..7 03:00', BERLIN, '2026-03-01T00:00:00Z'],
  ['Sat *-*-1..7 03:00', 'UTC', '2026-06-01T00:00:00Z'],
  ['*-*-* 02:30 Europe/Berlin', 'UTC', '2026-03-28T12:00:00Z'],
  ['*-*-* 02:30 Europe/Berlin', NEW_YORK, '2026-10-24T12:00:00Z'],
  ['*-*-* 6:00 America/New_York', BERLIN, '2026-10-31T12:00:00Z'],
  ['Mon..Fri 06:00 Europe/Berlin', NEW_YORK, '2026-03-27T12:00:00Z'],
  ['*-*-* 12:00:00 Asia/Kolkata', BERLIN, '2026-03-28T12:00:00Z'],
  ['minutely', BERLIN, '2026-03-29T00:59:30Z'],
  ['monthly', BERLIN, '2026-02-15T00:00:00Z'],
  ['quarterly', NEW_YORK, '2026-02-15T00:00:00Z'],
  ['semiannually', BERLIN, '2026-03-01T00:00:00Z'],
  ['yearly', BERLIN, '2026-06-01T00:00:00Z'],
  ['*-*~01 04:00', 'UTC', '2026-02-15T00:00:00Z'],
  ['*-02-29 00:00', 'UTC', '2026-01-01T00:00:00Z'],
  ['*-*-* 02,03:00/20', BERLIN, '2026-03-28T23:30:00Z'],
  ['*-*-* 00/6:00', NEW_YORK, '2026-03-07T20:00:00Z'],
  ['Sun 02:15', BERLIN, '2026-03-22T12:00:00Z'],
  ['Fri *-*-13 09:00', NEW_YORK, '2026-01-01T00:00:00Z'],
];

describe.skipIf(!SYSTEMD_ANALYZE)('OnCalendar schedules computed as systemd-analyze calendar computes them', () => {
  it.each(CASES)('%s in %s after %s', (expression, zone, base) => {
    const expected = systemdElapses(expression, zone, base, 3);
    expect(expected.length).toBe(3);
    const schedule = parseCalendarSchedule(expression, { env: ENV, zone, nowMs: Date.parse(base) });
    const got: number[] = [];
    let after = Date.parse(base);
    for (let i = 0; i < 3; i++) got.push((after = schedule.next(after) as number));
    expect(got.map((ms) => new Date(ms).toISOString())).toEqual(expected.map((ms) => new Date(ms).toISOString()));
    // Looking back from the third elapse finds the second.
    expect(schedule.previous(got[2] as number)).toBe(got[1]);
  });

  it('skips 02:30 on the day Berlin has none, and runs it once on the day it repeats', () => {
    const next = (base: string) => parseCalendarSchedule('*-*-* 02:30', { env: ENV, zone: BERLIN, nowMs: 0 }).next(Date.parse(base));
    expect(next('2026-03-28T12:00:00Z')).toBe(Date.parse('2026-03-30T00:30:00Z'));
    expect(next('2026-10-25T00:00:00Z')).toBe(Date.parse('2026-10-25T00:30:00Z'));
    expect(next('2026-10-25T00:31:00Z')).toBe(Date.parse('2026-10-26T01:30:00Z'));
  });

  it('looks back to the elapse before: the interval is the real gap, 23 hours on a spring-forward day', () => {
    const daily = parseCalendarSchedule('daily', { env: ENV, zone: BERLIN, nowMs: Date.parse('2026-03-28T12:00:00Z') });
    const times = scheduleTimes(daily, Date.parse('2026-03-29T06:00:00Z'));
    expect(times?.nextMs).toBe(Date.parse('2026-03-29T22:00:00Z'));
    // Sunday 29 March has 23 hours in Berlin; the Saturday before has 24.
    expect(times?.intervalMs).toBe(23 * H);
    expect(scheduleTimes(daily, Date.parse('2026-03-28T12:00:00Z'))?.intervalMs).toBe(24 * H);
    // Friday's run: the next is Monday, three days on; the look back has to pass the weekend.
    const weekdays = parseCalendarSchedule('Mon..Fri *:0/5', { env: ENV, zone: 'UTC', nowMs: Date.parse('2026-06-12T23:57:00Z') });
    expect(weekdays.previous(Date.parse('2026-06-15T00:00:00Z'))).toBe(Date.parse('2026-06-12T23:55:00Z'));
    const monthly = parseCalendarSchedule('*-*-1 00:00', { env: ENV, zone: 'UTC', nowMs: Date.parse('2026-03-05T00:00:00Z') });
    expect(monthly.previous(Date.parse('2026-04-01T00:00:00Z'))).toBe(Date.parse('2026-03-01T00:00:00Z'));
  });

  it('refuses what systemd refuses, and an expression that never elapses again', () => {
    expect(() => parseCalendarSchedule('every day', { env: ENV, nowMs: 0 })).toThrow(InputError);
    expect(() => parseCalendarSchedule('17 3 * * *', { env: ENV, nowMs: 0 })).toThrow(/calendar expression "17 3 \* \* \*"/);
    expect(() => parseCalendarSchedule('2020-01-01 00:00', { env: ENV, nowMs: Date.parse('2026-01-01T00:00:00Z') })).toThrow(
      /never elapses again/,
    );
  });
});

describe('systemd-analyze missing or hanging', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir()));
  afterAll(async () => cleanup?.());

  it('names the crontab alternative when systemd-analyze is not installed', () => {
    const error = (() => {
      try {
        parseCalendarSchedule('daily', { env: { PATH: dir }, nowMs: 0 });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(IoError);
    expect((error as IoError).code).toBe('ERR_SYSTEMD_UNAVAILABLE');
    expect((error as IoError).message).toMatch(/systemd-analyze, which is not installed.*--schedule/);
  });

  it('gives up on a systemd-analyze that does not answer, within its time bound', async () => {
    await writeFile(join(dir, 'systemd-analyze'), '#!/bin/sh\nexec sleep 30\n');
    await chmod(join(dir, 'systemd-analyze'), 0o755);
    const started = Date.now();
    expect(() => parseCalendarSchedule('daily', { env: { PATH: `${dir}:/usr/bin:/bin` }, nowMs: 0, timeoutMs: 300 })).toThrow(
      /did not answer within 0.3s/,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('parseCalendarOutput', () => {
  it('reads each elapse from its (in UTC) line, or from the line itself in UTC, and none from never', () => {
    const zoned = [
      '  Original form: daily',
      'Normalized form: *-*-* 00:00:00',
      '    Next elapse: Sun 2026-03-29 00:00:00 CET',
      '       (in UTC): Sat 2026-03-28 23:00:00 UTC',
      '       From now: 8 months 7 days ago',
      '       Iter. #2: Mon 2026-03-30 00:00:00 CEST',
      '       (in UTC): Sun 2026-03-29 22:00:00 UTC',
    ].join('\n');
    expect(parseCalendarOutput(zoned)).toEqual([Date.parse('2026-03-28T23:00:00Z'), Date.parse('2026-03-29T22:00:00Z')]);
    expect(parseCalendarOutput('    Next elapse: Wed 2023-11-15 05:00:00 UTC\n       From now: 3 years ago\n')).toEqual([
      Date.parse('2023-11-15T05:00:00Z'),
    ]);
    expect(parseCalendarOutput('Normalized form: 2020-01-01 00:00:00\n    Next elapse: never\n')).toEqual([]);
    expect(() => parseCalendarOutput('    Next elapse: Sun 2026-03-29 00:00:00 CET\n')).toThrow(IoError);
  });
});
