// A time zone's UTC offsets read from the system's compiled tz database
// (TZif, RFC 8536), as the cron daemon reads them through libc. It spares
// `run --schedule` with CRON_TZ the load of ICU's time-zone formatting
// (Intl.DateTimeFormat), which costs more than the rest of the schedule.
// Only what can be answered from the file's transition table is answered:
// past its last transition, a zone whose rule still changes (the POSIX TZ
// footer has a DST part) answers undefined, and callers take the Intl path.
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { join } from 'node:path';

/** One zone's offsets, as far as its transition table goes. */
export interface ZoneOffsets {
  /** UTC offset in minutes at `ms`, or undefined where the table does not say. */
  offsetAt(ms: number): number | undefined;
  /** True when the offset is known and the same for all of [fromMs, toMs]. */
  steady(fromMs: number, toMs: number): boolean;
}

/** IANA names only (no paths, no `..`); not the leap-second or POSIX copies, nor Factory (Intl has no such zone). */
const ZONE_NAME = /^(?!right\/|posix\/|posixrules$|localtime$|Factory$)[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/;
const MAX_TZIF_BYTES = 1 << 20;
/** Enough for any zone Debian ships (the largest are under 4 kB) in one read. */
const FIRST_READ_BYTES = 1 << 14;

/**
 * The zone's file, or undefined when it cannot be read whole within
 * MAX_TZIF_BYTES. Reads until end of file without fstat (a cold fstatSync is
 * a tenth of what this module costs); a special file planted under TZDIR
 * still neither blocks nor grows memory: O_NONBLOCK, the bound, and a FIFO or
 * device yields no TZif.
 */
function readZoneFile(path: string): Uint8Array | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    let bytes = new Uint8Array(FIRST_READ_BYTES);
    let length = 0;
    for (;;) {
      if (length === bytes.length) {
        if (length > MAX_TZIF_BYTES) return undefined;
        const larger = new Uint8Array(Math.min(length * 4, MAX_TZIF_BYTES + 1));
        larger.set(bytes);
        bytes = larger;
      }
      const n = readSync(fd, bytes, length, bytes.length - length, null);
      if (n === 0) return bytes.subarray(0, length);
      length += n;
    }
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** A zone's transition table, read from the file's bytes where asked (a lookup reads a few entries). */
interface Table {
  /** Number of transitions. */
  readonly count: number;
  /** Time of transition `index`, Unix seconds (ascending with the index). */
  readonly time: (index: number) => number;
  /** Offset (minutes) from transition `index` on. */
  readonly offset: (index: number) => number;
  /** Offset before the first transition. */
  readonly initial: number;
  /** The footer rule has no DST part: the last offset holds for ever. */
  readonly settled: boolean;
}

/** "TZif" at `at`. */
const isMagic = (bytes: Uint8Array, at: number): boolean =>
  bytes[at] === 0x54 && bytes[at + 1] === 0x5a && bytes[at + 2] === 0x69 && bytes[at + 3] === 0x66;

/**
 * The version 2+ (64-bit) data block of a TZif file; undefined for anything
 * else. Read through a DataView: Buffer's read methods are JavaScript that
 * Node compiles on first use, which cost more than the parse itself.
 */
function parseTzif(bytes: Uint8Array): Table | undefined {
  if (bytes.length < 44 || !isMagic(bytes, 0) || bytes[4] === 0) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const counts = (at: number): number[] => [0, 1, 2, 3, 4, 5].map((i) => view.getUint32(at + 20 + 4 * i));
  const [isut1, isstd1, leap1, time1, type1, char1] = counts(0) as [number, number, number, number, number, number];
  const second = 44 + time1 * 5 + type1 * 6 + char1 + leap1 * 8 + isstd1 + isut1;
  if (bytes.length < second + 44 || !isMagic(bytes, second)) return undefined;
  const [isut, isstd, leap, timecnt, typecnt, charcnt] = counts(second) as [number, number, number, number, number, number];
  // Leap-second zones count TAI seconds: not what cron or Date use.
  if (leap !== 0 || typecnt === 0) return undefined;
  const data = second + 44;
  const typesAt = data + timecnt * 8 + timecnt;
  const footerAt = typesAt + typecnt * 6 + charcnt + leap * 12 + isstd + isut;
  if (bytes.length < footerAt) return undefined;
  const typeOffset = (index: number): number => view.getInt32(typesAt + 6 * index) / 60;
  const typeAt = data + timecnt * 8;
  for (let i = 0; i < timecnt; i++) if ((bytes[typeAt + i] as number) >= typecnt) return undefined;
  return {
    count: timecnt,
    // A 64-bit count of seconds, exact as a Number up to 2^53 (BigInt would be exact beyond, and slower).
    time: (index) => view.getInt32(data + 8 * index) * 2 ** 32 + view.getUint32(data + 8 * index + 4),
    offset: (index) => typeOffset(bytes[typeAt + index] as number),
    initial: typeOffset(0),
    settled: footerSettled(bytes, footerAt),
  };
}

/** True when the footer (`\nTZ-string\n`) names a rule with no DST part: non-empty, no `,`. */
function footerSettled(bytes: Uint8Array, footerAt: number): boolean {
  if (bytes[footerAt] !== 0x0a) return false;
  let at = footerAt + 1;
  for (; at < bytes.length && bytes[at] !== 0x0a; at++) if (bytes[at] === 0x2c) return false;
  return at > footerAt + 1;
}

/** The offsets of `table`, answering only inside what it covers. */
function zoneOffsets(table: Table): ZoneOffsets {
  const { count, time, initial, settled } = table;
  const last = count === 0 ? -Infinity : time(count - 1);
  /** Index of the last transition at or before `seconds` (-1: before the first). */
  const indexAt = (seconds: number): number => {
    let low = 0;
    let high = count;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (time(mid) <= seconds) low = mid + 1;
      else high = mid;
    }
    return low - 1;
  };
  const known = (seconds: number): boolean => settled || seconds < last;
  const offsetAt = (ms: number): number | undefined => {
    const seconds = Math.floor(ms / 1000);
    if (!known(seconds)) return undefined;
    const index = indexAt(seconds);
    return index === -1 ? initial : table.offset(index);
  };
  return {
    offsetAt,
    steady: (fromMs, toMs) => known(Math.floor(toMs / 1000)) && indexAt(Math.floor(fromMs / 1000)) === indexAt(Math.floor(toMs / 1000)),
  };
}

/** Zones read so far, by path. */
const read = new Map<string, ZoneOffsets | undefined>();

/**
 * The zone's offsets from `$TZDIR` (default /usr/share/zoneinfo), or
 * undefined when the system has no usable file for it.
 */
export function systemZone(name: string, env: NodeJS.ProcessEnv = process.env): ZoneOffsets | undefined {
  if (!ZONE_NAME.test(name)) return undefined;
  const path = join(env.TZDIR || '/usr/share/zoneinfo', name);
  // The zone is checked on the command line and again by the schedule: read it once.
  if (!read.has(path)) {
    const bytes = readZoneFile(path);
    const table = bytes && parseTzif(bytes);
    read.set(path, table ? zoneOffsets(table) : undefined);
  }
  return read.get(path);
}
