// When a scheduled job is next due, and how long its slots are: `run
// --every`, and the times `run --schedule` records (cron.ts reads crontab
// syntax; it is loaded only when --schedule is given; calendar.ts and
// timer.ts ask systemd for --on-calendar and --timer).
import { InputError } from '../errors.js';
import { systemZone } from './zone.js';

/** A job's slots: the next one after a time, and the length of the slot that time falls in. */
export interface Schedule {
  /** How the user wrote it (for messages). */
  readonly text: string;
  /** Unix ms of the first slot strictly after `afterMs`; undefined when there is none. */
  next(afterMs: number): number | undefined;
  /** Unix ms of the last slot strictly before `beforeMs`; undefined when there is none. */
  previous(beforeMs: number): number | undefined;
  /**
   * How late after its slot the scheduler itself may start the job, in ms (a
   * systemd timer's RandomizedDelaySec + AccuracySec); the default grace adds it.
   */
  readonly slackMs?: number;
}

/** The schedule metrics of one run, in ms. */
export interface ScheduleTimes {
  readonly nextMs: number;
  readonly intervalMs: number;
  readonly graceMs: number;
}

/**
 * Throw unless `zone` is an IANA time zone: one the system's tz database has
 * (what cron reads), else one this Node knows (asking Intl, whose load is slow).
 */
export function checkTimeZone(zone: string, what: string): void {
  if (systemZone(zone) !== undefined) return;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
  } catch {
    throw new InputError('ERR_INVALID_ARGUMENT', `${what} "${zone}" is not a time zone (use an IANA name such as Europe/Berlin)`);
  }
}

/**
 * Split a leading `CRON_TZ=Zone ` or `TZ=Zone ` off a schedule, as a crontab
 * line would set it.
 */
export function splitZone(text: string): { spec: string; zone?: string } {
  const match = /^\s*(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(text);
  return match ? { spec: (match[2] as string).trim(), zone: match[1] as string } : { spec: text.trim() };
}

/** A fixed interval: the next run is due `intervalMs` after this one started. */
export function everySchedule(intervalMs: number, text: string): Schedule {
  return { text, next: (afterMs) => afterMs + intervalMs, previous: (beforeMs) => beforeMs - intervalMs };
}

/** Default grace: a tenth of the interval, at least a minute (cron starts jobs up to a minute late). */
export function defaultGraceMs(intervalMs: number): number {
  return Math.max(intervalMs / 10, 60_000);
}

/**
 * The schedule metrics of a run started at `startMs`: the next slot after the
 * start, and the interval ending at it (so a run in the repeated hour of a DST
 * change, or before a month's gap, sees the real length of the slot).
 */
export function scheduleTimes(schedule: Schedule, startMs: number, graceMs?: number): ScheduleTimes | undefined {
  const nextMs = schedule.next(startMs);
  if (nextMs === undefined) return undefined;
  const previousMs = schedule.previous(nextMs);
  const intervalMs = previousMs === undefined ? nextMs - startMs : nextMs - previousMs;
  return { nextMs, intervalMs, graceMs: graceMs ?? defaultGraceMs(intervalMs) + (schedule.slackMs ?? 0) };
}
