// systemZone reads the system's tz files (as cron does through libc); its
// offsets must be the ones Intl (ICU) gives, where its table answers at all.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { systemZone } from '../../src/job/zone.js';

const ZONES = [
  'Europe/Berlin',
  'America/New_York',
  'Australia/Sydney',
  'Australia/Lord_Howe',
  'America/Sao_Paulo',
  'Asia/Kolkata',
  'Pacific/Chatham',
  'UTC',
];

/** The zone's UTC offset (minutes) at `ms`, from Intl. */
function intlOffset(zone: string, ms: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(ms));
  const get = (type: string) => Number(parts.find((part) => part.type === type)?.value);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return (wall - Math.floor(ms / 1000) * 1000) / 60_000;
}

const work = mkdtempSync(join(tmpdir(), 'promfile-zone-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('systemZone', () => {
  it('gives the offsets Intl gives, 1990 to 2036, wherever its table answers', () => {
    const instant = fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2036, 11, 31) });
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), instant, (zone, ms) => {
        const offset = systemZone(zone)?.offsetAt(ms);
        if (offset !== undefined) expect(offset).toBe(intlOffset(zone, ms));
      }),
      { numRuns: 400 },
    );
  });

  it('answers for this decade (the Debian tz files are not slimmed)', () => {
    for (const zone of ZONES) expect(systemZone(zone)?.offsetAt(Date.UTC(2026, 5, 1)), zone).toBe(intlOffset(zone, Date.UTC(2026, 5, 1)));
  });

  it('is steady inside a summer, not across a DST change', () => {
    const berlin = systemZone('Europe/Berlin');
    expect(berlin?.steady(Date.UTC(2026, 4, 1), Date.UTC(2026, 8, 1))).toBe(true);
    expect(berlin?.steady(Date.UTC(2026, 2, 29, 0, 59), Date.UTC(2026, 2, 29, 1, 0))).toBe(false);
    expect(systemZone('UTC')?.steady(0, Date.UTC(2200, 0, 1))).toBe(true);
  });

  it('does not answer past the table of a zone that still changes its clocks', () => {
    expect(systemZone('Europe/Berlin')?.offsetAt(Date.UTC(2100, 0, 1))).toBeUndefined();
    expect(systemZone('Europe/Berlin')?.steady(Date.UTC(2099, 4, 1), Date.UTC(2099, 5, 1))).toBe(false);
    expect(systemZone('Asia/Kolkata')?.offsetAt(Date.UTC(2100, 0, 1))).toBe(330);
  });

  it('takes no zone Intl does not know (the DST path asks Intl for it)', () => {
    const root = '/usr/share/zoneinfo';
    const names = readdirSync(root, { recursive: true, encoding: 'utf8' });
    const taken = names.filter((name) => systemZone(name) !== undefined);
    expect(taken.length).toBeGreaterThan(300);
    const unknown = taken.filter((name) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: name });
        return false;
      } catch {
        return true;
      }
    });
    expect(unknown).toEqual([]);
  });

  it('reads nothing but a plain TZif file under TZDIR by an IANA name', () => {
    const dir = join(work, 'zoneinfo');
    mkdirSync(join(dir, 'Mars'), { recursive: true });
    writeFileSync(join(dir, 'Mars', 'Olympus'), 'not a tz file\n');
    expect(spawnSync('mkfifo', [join(dir, 'Mars', 'Fifo')]).status).toBe(0);
    copyFileSync('/usr/share/zoneinfo/Europe/Berlin', join(dir, 'Mars', 'Berlin'));
    const env = { TZDIR: dir };
    expect(systemZone('Mars/Olympus', env)).toBeUndefined();
    expect(systemZone('Mars/Fifo', env)).toBeUndefined();
    expect(systemZone('Mars/Nowhere', env)).toBeUndefined();
    expect(systemZone('Mars', env)).toBeUndefined();
    expect(systemZone('Mars/Berlin', env)?.offsetAt(Date.UTC(2026, 5, 1))).toBe(120);
    for (const name of [
      '../zoneinfo/Mars/Berlin',
      '/usr/share/zoneinfo/UTC',
      'Mars/../Mars/Berlin',
      'right/UTC',
      'posixrules',
      'Factory',
      '',
    ])
      expect(systemZone(name, env), name).toBeUndefined();
  });

  it('reads a file of any size up to 1 MiB, and not a byte more, nor an endless device', () => {
    const dir = join(work, 'sizes');
    mkdirSync(join(dir, 'Mars'), { recursive: true });
    const berlin = readFileSync('/usr/share/zoneinfo/Europe/Berlin');
    // Newlines after the footer are not part of the table: the file stays a valid TZif file.
    const padded = (size: number) => Buffer.concat([berlin, Buffer.alloc(size - berlin.length, '\n')]);
    writeFileSync(join(dir, 'Mars', 'Large'), padded(300_000));
    writeFileSync(join(dir, 'Mars', 'Largest'), padded(1 << 20));
    writeFileSync(join(dir, 'Mars', 'Huge'), padded((1 << 20) + 1));
    symlinkSync('/dev/zero', join(dir, 'Mars', 'Zero'));
    const env = { TZDIR: dir };
    expect(systemZone('Mars/Large', env)?.offsetAt(Date.UTC(2026, 5, 1))).toBe(120);
    expect(systemZone('Mars/Largest', env)?.offsetAt(Date.UTC(2026, 0, 1))).toBe(60);
    expect(systemZone('Mars/Huge', env)).toBeUndefined();
    expect(systemZone('Mars/Zero', env)).toBeUndefined();
  });
});
