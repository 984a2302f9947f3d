// The fixed-offset path of a zoned schedule (the zone read from the system's
// tz files, croner at that offset) must answer exactly what croner answers
// in the zone itself (through Intl), DST days included; and it must be the
// path taken away from DST changes, since it is there for speed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { parseCronSchedule } from '../../src/job/cron.js';
import type { Schedule } from '../../src/job/schedule.js';

const ZONES = ['Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'Australia/Lord_Howe', 'America/Sao_Paulo', 'Asia/Kolkata', 'UTC'];

const noZoneFiles = mkdtempSync(join(tmpdir(), 'promfile-no-zoneinfo-'));
afterAll(() => rmSync(noZoneFiles, { recursive: true, force: true }));
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

/** The same schedule computed by croner in the zone (no tz files to read: the Intl path only). */
function inZone(text: string, zone: string): Schedule {
  vi.stubEnv('TZDIR', noZoneFiles);
  try {
    return parseCronSchedule(text, zone);
  } finally {
    vi.unstubAllEnvs();
  }
}

const pick = <T>(values: readonly T[]) => fc.constantFrom(...values);
const range = (min: number, max: number) =>
  fc.tuple(fc.integer({ min, max }), fc.integer({ min, max })).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`);
/** One field of the kinds cron has: *, N, N-M, * /S, N-M/S and lists of those. */
const field = (min: number, max: number, words: readonly string[] = []) => {
  const part = fc.oneof(
    fc.constant('*'),
    fc.integer({ min, max }).map(String),
    range(min, max),
    fc.integer({ min: 1, max: Math.max(1, max - min) }).map((step) => `*/${step}`),
    fc.tuple(range(min, max), fc.integer({ min: 1, max: 7 })).map(([r, step]) => `${r}/${step}`),
    ...(words.length ? [pick(words)] : []),
  );
  return fc.array(part, { minLength: 1, maxLength: 3 }).map((parts) => (parts.includes('*') ? '*' : parts.join(',')));
};
const expression = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(field(0, 59), field(0, 23), field(1, 28), field(1, 12, ['jan', 'mar', 'oct']), field(0, 7, ['mon', 'sun']))
      .map((f) => f.join(' ')),
  },
  { weight: 1, arbitrary: pick(['@daily', '@hourly', '@weekly', '@monthly', '17 3 * * *', '30 2 * * *', '*/15 * * * *', '0 1-3 * * *']) },
);
/** Any time 2000-2036, or one in the months clocks change (March, April, October, November). */
const instant = fc.oneof(
  fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2036, 11, 31) }),
  fc
    .tuple(fc.integer({ min: 2000, max: 2036 }), pick([2, 3, 9, 10]), fc.integer({ min: 0, max: 30 * 24 * 60 }))
    .map(([year, month, minutes]) => Date.UTC(year, month, 1) + minutes * 60_000 + 30_000),
);

describe('a zoned schedule', () => {
  it('answers next and previous exactly as croner in the zone does', () => {
    fc.assert(
      fc.property(expression, pick(ZONES), instant, (text, zone, ms) => {
        let expected: Schedule;
        try {
          expected = inZone(text, zone);
        } catch {
          return; // a date that never comes (30 Feb): refused on both paths
        }
        const schedule = parseCronSchedule(text, zone);
        expect(schedule.next(ms)).toBe(expected.next(ms));
        expect(schedule.previous(ms)).toBe(expected.previous(ms));
      }),
      { numRuns: 300 },
    );
  });

  it('agrees on every hour around the 2026 DST changes in Berlin and New York', () => {
    const days: Array<[string, number]> = [
      ['Europe/Berlin', Date.UTC(2026, 2, 27)],
      ['Europe/Berlin', Date.UTC(2026, 9, 23)],
      ['America/New_York', Date.UTC(2026, 2, 6)],
      ['America/New_York', Date.UTC(2026, 9, 30)],
    ];
    for (const text of ['30 2 * * *', '*/20 2 * * *', '0 * * * *', '17 3 * * *', '0 0 * * 0']) {
      for (const [zone, from] of days) {
        const schedule = parseCronSchedule(text, zone);
        const expected = inZone(text, zone);
        for (let ms = from; ms < from + 4 * 86_400_000; ms += 2_820_000 + 7_000) {
          expect([text, zone, new Date(ms).toISOString(), schedule.next(ms)]).toEqual([
            text,
            zone,
            new Date(ms).toISOString(),
            expected.next(ms),
          ]);
          expect(schedule.previous(ms)).toBe(expected.previous(ms));
        }
      }
    }
  });

  it('needs no Intl away from a DST change, and asks it near one', () => {
    // croner keeps one formatter per zone: count its uses, not its creation.
    const intl = vi.spyOn(Intl.DateTimeFormat.prototype, 'formatToParts');
    const schedule = parseCronSchedule('17 3 * * *', 'Europe/Berlin');
    const next = schedule.next(Date.UTC(2026, 5, 10, 12));
    expect(next).toBe(Date.UTC(2026, 5, 11, 1, 17));
    schedule.previous(next as number);
    expect(intl).not.toHaveBeenCalled();
    expect(schedule.next(Date.UTC(2026, 2, 28, 12))).toBe(Date.UTC(2026, 2, 29, 1, 17));
    expect(intl).toHaveBeenCalled();
  });
});
