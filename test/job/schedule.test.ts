// run --schedule against Debian cron 3.0pl1 (Vixie): expected times were
// observed with Debian's cron binary under libfaketime, or read from its man
// page and entry.c, on fixed dates.
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { parseCronSchedule } from '../../src/job/cron.js';
import { defaultGraceMs, everySchedule, scheduleTimes, splitZone } from '../../src/job/schedule.js';

const BERLIN = 'Europe/Berlin';
const NEW_YORK = 'America/New_York';
const H = 3_600_000;

// [schedule, zone, after (UTC), next run cron makes (UTC), why]
const NEXT: ReadonlyArray<[string, string, string, string, string]> = [
  ['17 3 * * *', BERLIN, '2026-06-10T12:00:00Z', '2026-06-11T01:17:00Z', 'daily, in the zone'],
  ['*/15 9-17 * * *', 'UTC', '2026-06-10T17:50:00Z', '2026-06-11T09:00:00Z', 'step and range'],
  ['0 9 * * mon-fri', 'UTC', '2026-06-12T10:00:00Z', '2026-06-15T09:00:00Z', 'day names'],
  ['0 0 1 jan,JUL *', 'UTC', '2026-02-01T00:00:00Z', '2026-07-01T00:00:00Z', 'month names, any case'],
  ['0 0 * * 7', 'UTC', '2026-06-08T00:00:00Z', '2026-06-14T00:00:00Z', '7 is Sunday'],
  ['0 0 * * 5-7', 'UTC', '2026-06-13T00:00:00Z', '2026-06-14T00:00:00Z', 'range ending in 7'],
  ['0 0 1,15 * 5', 'UTC', '2026-06-01T01:00:00Z', '2026-06-05T00:00:00Z', 'both day fields restricted: OR'],
  ['0 0 13 * fri', 'UTC', '2026-06-06T00:00:00Z', '2026-06-12T00:00:00Z', 'OR: Friday the 12th comes first'],
  ['0 0 */2 * 1', 'UTC', '2026-06-01T01:00:00Z', '2026-06-15T00:00:00Z', 'day of month starts with *: AND'],
  ['0 0 1-31/2 * 1', 'UTC', '2026-06-07T01:00:00Z', '2026-06-08T00:00:00Z', 'the same days without *: OR'],
  ['0 0 1 * */2', 'UTC', '2026-06-01T01:00:00Z', '2026-08-01T00:00:00Z', 'day of week starts with *: AND'],
  ['@weekly', 'UTC', '2026-06-08T00:00:00Z', '2026-06-14T00:00:00Z', '@weekly is Sunday midnight'],
  ['@annually', BERLIN, '2026-06-08T00:00:00Z', '2026-12-31T23:00:00Z', '@annually in the zone'],
  ['@daily', NEW_YORK, '2026-06-08T12:00:00Z', '2026-06-09T04:00:00Z', '@daily is local midnight'],
  ['@midnight', NEW_YORK, '2026-06-08T12:00:00Z', '2026-06-09T04:00:00Z', '@midnight'],
  ['0 9 * * *', 'Asia/Kolkata', '2026-06-10T00:00:00Z', '2026-06-10T03:30:00Z', 'half-hour offset'],
  ['0 0 29 2 *', 'UTC', '2026-03-01T00:00:00Z', '2028-02-29T00:00:00Z', 'leap day'],
  // Berlin 2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 CEST -> 02:00 CET.
  ['30 2 * * *', BERLIN, '2026-03-29T00:00:00Z', '2026-03-29T01:00:00Z', 'skipped hour: a fixed job runs right after the change'],
  ['*/20 2 * * *', BERLIN, '2026-03-29T00:00:00Z', '2026-03-30T00:00:00Z', 'skipped hour: a wildcard job skips it'],
  ['30 * * * *', BERLIN, '2026-03-29T00:45:00Z', '2026-03-29T01:30:00Z', 'skipped hour: hourly job has no 02:30'],
  ['30 2 * * *', BERLIN, '2026-10-25T00:00:00Z', '2026-10-25T00:30:00Z', 'repeated hour: first 02:30'],
  ['30 2 * * *', BERLIN, '2026-10-25T00:31:00Z', '2026-10-26T01:30:00Z', 'repeated hour: no second 02:30'],
  ['30 * * * *', BERLIN, '2026-10-25T00:31:00Z', '2026-10-25T01:30:00Z', 'repeated hour: a wildcard job runs again'],
  ['*/20 2 * * *', BERLIN, '2026-10-25T00:45:00Z', '2026-10-25T01:00:00Z', 'repeated hour: */20 runs again'],
  ['15 1-3 * * *', BERLIN, '2026-10-25T00:16:00Z', '2026-10-25T02:15:00Z', 'repeated hour: a range hour is fixed'],
  ['0-59/20 2 * * *', BERLIN, '2026-10-25T00:45:00Z', '2026-10-26T01:00:00Z', 'repeated hour: a step without * is fixed'],
  ['30 2 * * *', NEW_YORK, '2026-03-08T06:00:00Z', '2026-03-08T07:00:00Z', 'skipped hour, New York'],
  ['30 1 * * *', NEW_YORK, '2026-11-01T05:31:00Z', '2026-11-02T06:30:00Z', 'repeated hour, New York'],
  ['0 * * * *', NEW_YORK, '2026-11-01T05:00:00Z', '2026-11-01T06:00:00Z', 'hourly runs in both passes'],
];

describe('parseCronSchedule', () => {
  it.each(NEXT)('%s in %s after %s is %s (%s)', (text, zone, after, expected) => {
    const next = parseCronSchedule(text, zone).next(Date.parse(after));
    expect(new Date(next as number).toISOString()).toBe(new Date(expected).toISOString());
  });

  it.each([
    ['@reboot', /@reboot is not a time schedule/],
    ['0 0 0 * * *', /expected 5 fields/],
    ['0 0 L * *', /no \? L W #/],
    ['0 0 ? * *', /no \? L W #/],
    ['0 0 * * 1#2', /no \? L W #/],
    ['5/10 * * * *', /a step needs \* or a range/],
    ['60 * * * *', /out of range/],
    ['0 0 * * monday', /"monday" is not a day of week name/],
    ['0 0 * foo *', /"foo" is not a month name/],
    ['@often', /unknown @often/],
    ['0 0 30 2 *', /never comes round/],
  ])('refuses %s', (text, message) => {
    expect(() => parseCronSchedule(text, 'UTC')).toThrow(InputError);
    expect(() => parseCronSchedule(text, 'UTC')).toThrow(message);
  });

  it('refuses an unknown zone', () => {
    expect(() => parseCronSchedule('0 0 * * *', 'Mars/Olympus')).toThrow(/"Mars\/Olympus" is not a time zone/);
  });
});

describe('splitZone', () => {
  it('takes CRON_TZ= and TZ= off the front', () => {
    expect(splitZone('CRON_TZ=Europe/Berlin 17 3 * * *')).toEqual({ spec: '17 3 * * *', zone: BERLIN });
    expect(splitZone('TZ=UTC @daily')).toEqual({ spec: '@daily', zone: 'UTC' });
    expect(splitZone(' 17 3 * * * ')).toEqual({ spec: '17 3 * * *' });
  });
});

describe('scheduleTimes', () => {
  const times = (text: string, zone: string, start: string) => scheduleTimes(parseCronSchedule(text, zone), Date.parse(start));

  it('a daily job started late: next is tomorrow, interval a day, grace a tenth of it', () => {
    expect(times('17 3 * * *', BERLIN, '2026-06-11T01:17:04.250Z')).toEqual({
      nextMs: Date.parse('2026-06-12T01:17:00Z'),
      intervalMs: 24 * H,
      graceMs: 2.4 * H,
    });
  });

  it('a run started exactly on its slot counts from the next one', () => {
    expect(times('0 * * * *', 'UTC', '2026-06-11T05:00:00.000Z')).toMatchObject({
      nextMs: Date.parse('2026-06-11T06:00:00Z'),
      intervalMs: H,
    });
  });

  it('the slot across a DST change is shorter or longer, counting the catch-up run at 03:00', () => {
    expect(times('30 2 * * *', BERLIN, '2026-03-28T01:30:00Z')?.intervalMs).toBe(23.5 * H);
    // Catch-up run at 03:00 CEST on the short day: next is 02:30 CEST tomorrow.
    expect(times('30 2 * * *', BERLIN, '2026-03-29T01:00:05Z')).toMatchObject({
      nextMs: Date.parse('2026-03-30T00:30:00Z'),
      intervalMs: 23.5 * H,
    });
    expect(times('30 2 * * *', BERLIN, '2026-10-25T00:30:00.2Z')?.intervalMs).toBe(25 * H);
    expect(times('30 * * * *', BERLIN, '2026-10-25T00:30:00.2Z')).toMatchObject({
      nextMs: Date.parse('2026-10-25T01:30:00Z'),
      intervalMs: H,
    });
  });

  it('uneven slots: the interval is the one ending at the next run', () => {
    expect(times('0 0 */2 * 1', 'UTC', '2026-06-01T00:00:00.2Z')).toMatchObject({
      nextMs: Date.parse('2026-06-15T00:00:00Z'),
      intervalMs: 14 * 24 * H,
    });
  });

  it('--every counts from the start of this run; grace is at least a minute', () => {
    expect(scheduleTimes(everySchedule(5 * 60_000, '5m'), 1_000_000)).toEqual({ nextMs: 1_300_000, intervalMs: 300_000, graceMs: 60_000 });
    expect(scheduleTimes(everySchedule(H, '1h'), 0, 5_000)).toEqual({ nextMs: H, intervalMs: H, graceMs: 5_000 });
    expect(defaultGraceMs(7 * 24 * H)).toBe(16.8 * H);
  });
});
