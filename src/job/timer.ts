// `run --timer UNIT`: a systemd timer's schedule as the running systemd holds
// it (`systemctl show`), so the next run recorded is systemd's own next elapse
// and the grace covers the delay systemd may add (RandomizedDelaySec=,
// AccuracySec=). Works against any systemd that answers `systemctl show`.
import { InputError, IoError } from '../errors.js';
import { CalendarSpec, parseUtcTimestamp, runSystemdTool, type SystemdToolOptions } from './calendar.js';
import type { Schedule } from './schedule.js';

/** What promfile reads of a timer. */
export interface TimerInfo {
  readonly unit: string;
  readonly activeState: string | undefined;
  /** Its OnCalendar= expressions (normalized by systemd), with each one's next elapse when systemd shows it. */
  readonly calendars: ReadonlyArray<{ readonly spec: string; readonly nextMs: number | undefined }>;
  /** NextElapseUSecRealtime: the next elapse, random delay included; unset while the timer's service runs. */
  readonly nextElapseMs: number | undefined;
  /** LastTriggerUSec: when the timer last fired (systemd's base for the next calendar elapse). */
  readonly lastTriggerMs: number | undefined;
  readonly randomizedDelayMs: number;
  readonly accuracyMs: number;
  readonly persistent: boolean;
}

/** The properties `systemctl show` is asked for. */
export const TIMER_PROPERTIES = [
  'Id',
  'LoadState',
  'ActiveState',
  'TimersCalendar',
  'NextElapseUSecRealtime',
  'LastTriggerUSec',
  'RandomizedDelayUSec',
  'AccuracyUSec',
  'Persistent',
] as const;

/** systemd's timespan units (format_timespan), in ms. */
const TIMESPAN_UNITS: Readonly<Record<string, number>> = {
  y: 31_557_600_000,
  month: 2_629_800_000,
  w: 604_800_000,
  d: 86_400_000,
  h: 3_600_000,
  min: 60_000,
  s: 1000,
  ms: 1,
  us: 0.001,
};

/** A timespan as systemctl prints it (`0`, `1h 30min`, `1.500000s`, `infinity`) in ms; undefined for anything else. */
export function parseTimespan(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  if (trimmed === 'infinity') return Infinity;
  if (!/^(?:\d+(?:\.\d+)?(?:y|month|w|d|h|min|s|ms|us) ?)+$/.test(trimmed)) return undefined;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+(?:\.\d+)?)(y|month|w|d|h|min|s|ms|us)/g))
    total += Number(amount) * (TIMESPAN_UNITS[unit as string] as number);
  return total;
}

/** A timer's unit name: `NAME` becomes `NAME.timer`; another unit type is refused. */
export function timerUnitName(text: string): string {
  const unit = /\.[a-z]+$/.test(text) ? text : `${text}.timer`;
  if (!/^[A-Za-z0-9:_.\\@-]+\.timer$/.test(unit))
    throw new InputError('ERR_INVALID_ARGUMENT', `--timer "${text}": name a timer unit, e.g. apt-daily-upgrade.timer`);
  return unit;
}

/** `{ OnCalendar=*-*-* 06:00:00 ; next_elapse=Sat 2026-12-05 06:00:00 UTC }` */
const CALENDAR_ENTRY = /^\{ OnCalendar=(.+) ; next_elapse=(.*) \}$/;

/** The values of `systemctl show -p ...`: one KEY=VALUE a line, TimersCalendar once per expression. */
function showValues(stdout: string): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (const line of stdout.split('\n')) {
    const equals = line.indexOf('=');
    if (equals <= 0) continue;
    const key = line.slice(0, equals);
    values.set(key, [...(values.get(key) ?? []), line.slice(equals + 1)]);
  }
  return values;
}

/** Read `systemctl show UNIT -p ...` output (timestamps in UTC); throws unless the unit is a loaded timer. */
export function parseTimerShow(unit: string, stdout: string): TimerInfo {
  const values = showValues(stdout);
  const one = (key: string): string | undefined => values.get(key)?.[0];
  const loadState = one('LoadState');
  if (loadState !== 'loaded')
    throw new InputError(
      'ERR_INVALID_ARGUMENT',
      `--timer ${unit}: systemd has no such timer (LoadState=${loadState ?? 'missing'}); "systemctl list-timers --all" lists them`,
    );
  const calendars = (values.get('TimersCalendar') ?? []).flatMap((entry) => {
    const match = CALENDAR_ENTRY.exec(entry.trim());
    return match ? [{ spec: match[1] as string, nextMs: parseUtcTimestamp(match[2] as string) }] : [];
  });
  const span = (key: string): number => {
    const ms = parseTimespan(one(key) ?? '0');
    if (ms === undefined || !Number.isFinite(ms))
      throw new IoError('ERR_SYSTEMD_UNAVAILABLE', `--timer ${unit}: systemctl printed ${key}="${one(key)}", which promfile cannot read`);
    return ms;
  };
  return {
    unit: one('Id') ?? unit,
    activeState: one('ActiveState'),
    calendars,
    nextElapseMs: parseUtcTimestamp(one('NextElapseUSecRealtime') ?? ''),
    lastTriggerMs: parseUtcTimestamp(one('LastTriggerUSec') ?? ''),
    randomizedDelayMs: span('RandomizedDelayUSec'),
    accuracyMs: span('AccuracyUSec'),
    persistent: one('Persistent') === 'yes',
  };
}

/** Ask the running systemd about a timer (`systemctl show`, timestamps in UTC, bounded in time). */
export function readTimer(unit: string, options: SystemdToolOptions): TimerInfo {
  const args = ['show', unit, ...TIMER_PROPERTIES.flatMap((property) => ['-p', property])];
  const { status, stdout, stderr } = runSystemdTool(
    'systemctl',
    args,
    { ...options, env: { ...options.env, TZ: 'UTC' } },
    { needs: '--timer', instead: 'give the schedule with --on-calendar or --schedule instead' },
  );
  if (status !== 0) {
    const why = stderr.trim().split('\n')[0] || `exit status ${status}`;
    throw new IoError('ERR_SYSTEMD_UNAVAILABLE', `--timer ${unit}: systemctl show failed: ${why}`);
  }
  return parseTimerShow(unit, stdout);
}

/**
 * The timer as a schedule. systemd computes a calendar timer's next elapse
 * from when it last fired and adds the random delay (timer.c), but only once
 * the service it started has finished: while that service runs (so while
 * `promfile run` runs inside it), NextElapseUSecRealtime is unset. Then the
 * next run is the calendar's next elapse after the last trigger (the later of
 * LastTriggerUSec and `triggeredAtMs`, from $TRIGGER_TIMER_REALTIME_USEC, which
 * systemd 252 leaves at the first trigger's time),
 * without the random delay, which the grace covers.
 */
export function timerSchedule(info: TimerInfo, options: SystemdToolOptions & { readonly triggeredAtMs?: number }): Schedule {
  const specs = info.calendars.map(({ spec }) => new CalendarSpec(spec, options));
  if (specs.length === 0 && info.nextElapseMs === undefined)
    throw new InputError(
      'ERR_INVALID_ARGUMENT',
      `--timer ${info.unit}: it has no OnCalendar= schedule and no next elapse (for OnUnitActiveSec= timers use --every)`,
    );
  const earliest = (times: Array<number | undefined>): number | undefined =>
    times.reduce<number | undefined>((min, ms) => (ms !== undefined && (min === undefined || ms < min) ? ms : min), undefined);
  const latest = (times: Array<number | undefined>): number | undefined =>
    times.reduce<number | undefined>((max, ms) => (ms !== undefined && (max === undefined || ms > max) ? ms : max), undefined);
  // The later of the two: systemd 252 keeps giving a service the $TRIGGER_TIMER_REALTIME_USEC of
  // the first time its timer fired, while LastTriggerUSec is the time it fired for this run.
  const triggeredAt = latest([options.triggeredAtMs, info.lastTriggerMs]);
  // The random delay systemd added to its next elapse, so the elapse before is shifted alike.
  const calendarNext = earliest(info.calendars.map(({ nextMs }) => nextMs));
  const drawn = info.nextElapseMs !== undefined && calendarNext !== undefined ? info.nextElapseMs - calendarNext : 0;
  return {
    text: info.unit,
    slackMs: info.randomizedDelayMs + info.accuracyMs,
    next: (afterMs) => {
      if (info.nextElapseMs !== undefined && info.nextElapseMs > afterMs) return info.nextElapseMs;
      const base = info.activeState === 'active' && triggeredAt !== undefined ? triggeredAt : afterMs;
      return earliest(specs.map((spec) => spec.next(base)));
    },
    previous: (beforeMs) => {
      const offset = beforeMs === info.nextElapseMs && drawn >= 0 && drawn < Math.max(info.randomizedDelayMs, 1) ? drawn : 0;
      const previous = latest(specs.map((spec) => spec.previous(beforeMs - offset)));
      return previous === undefined ? undefined : previous + offset;
    },
  };
}
