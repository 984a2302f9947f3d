// A time zone's UTC offsets read from the system's compiled tz database
// (TZif, RFC 8536), as the cron daemon reads them through libc. It spares
// `run --schedule` with CRON_TZ the load of ICU's time-zone formatting
// (Intl.DateTimeFormat), which costs more than the rest of the schedule.
// Only what can be answered from the file's transition table is answered:
// past its last transition, a zone whose rule still changes (the POSIX TZ
// footer has a DST part) answers undefined, and callers take the Intl path.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
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

/** The zone's file, or undefined when it is not a plain readable file of sane size. */
function readZoneFile(path: string): Buffer | undefined {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted under TZDIR must not hang the run.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size > MAX_TZIF_BYTES) return undefined;
    const bytes = Buffer.alloc(stat.size);
    let read = 0;
    while (read < bytes.length) {
      const n = readSync(fd, bytes, read, bytes.length - read, read);
      if (n === 0) return undefined;
      read += n;
    }
    return bytes;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

interface Table {
  /** Transition times, Unix seconds, ascending. */
  readonly times: readonly number[];
  /** Offset (minutes) from each transition on. */
  readonly offsets: readonly number[];
  /** Offset before the first transition. */
  readonly initial: number;
  /** The footer rule has no DST part: the last offset holds for ever. */
  readonly settled: boolean;
}

/** The version 2+ (64-bit) data block of a TZif file; undefined for anything else. */
function parseTzif(bytes: Buffer): Table | undefined {
  const counts = (at: number): number[] => [0, 1, 2, 3, 4, 5].map((i) => bytes.readUInt32BE(at + 20 + 4 * i));
  if (bytes.length < 44 || bytes.toString('latin1', 0, 4) !== 'TZif' || bytes[4] === 0) return undefined;
  const [isut1, isstd1, leap1, time1, type1, char1] = counts(0) as [number, number, number, number, number, number];
  const second = 44 + time1 * 5 + type1 * 6 + char1 + leap1 * 8 + isstd1 + isut1;
  if (bytes.length < second + 44 || bytes.toString('latin1', second, second + 4) !== 'TZif') return undefined;
  const [isut, isstd, leap, timecnt, typecnt, charcnt] = counts(second) as [number, number, number, number, number, number];
  // Leap-second zones count TAI seconds: not what cron or Date use.
  if (leap !== 0 || typecnt === 0) return undefined;
  const data = second + 44;
  const typesAt = data + timecnt * 8 + timecnt;
  const footerAt = typesAt + typecnt * 6 + charcnt + leap * 12 + isstd + isut;
  if (bytes.length < footerAt) return undefined;
  const typeOffset = (index: number): number => bytes.readInt32BE(typesAt + 6 * index) / 60;
  const times: number[] = [];
  const offsets: number[] = [];
  for (let i = 0; i < timecnt; i++) {
    const type = bytes[data + timecnt * 8 + i] as number;
    if (type >= typecnt) return undefined;
    times.push(Number(bytes.readBigInt64BE(data + 8 * i)));
    offsets.push(typeOffset(type));
  }
  const footer = bytes.toString('latin1', footerAt).split('\n')[1] ?? '';
  return { times, offsets, initial: typeOffset(0), settled: footer !== '' && !footer.includes(',') };
}

/** The offsets of `table`, answering only inside what it covers. */
function zoneOffsets(table: Table): ZoneOffsets {
  const { times, offsets, initial, settled } = table;
  const last = times.length === 0 ? -Infinity : (times[times.length - 1] as number);
  /** Index of the last transition at or before `seconds` (-1: before the first). */
  const indexAt = (seconds: number): number => {
    let low = 0;
    let high = times.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((times[mid] as number) <= seconds) low = mid + 1;
      else high = mid;
    }
    return low - 1;
  };
  const known = (seconds: number): boolean => settled || seconds < last;
  const offsetAt = (ms: number): number | undefined => {
    const seconds = Math.floor(ms / 1000);
    if (!known(seconds)) return undefined;
    const index = indexAt(seconds);
    return index === -1 ? initial : offsets[index];
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
