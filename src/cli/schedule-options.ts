// run's schedule flags (--schedule, --on-calendar, --timer, --tz, --every,
// --grace) and --duration-buckets, checked before the job starts.
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { parseBuckets } from '../format/histogram.js';
import { checkTimeZone, everySchedule, splitZone, type Schedule } from '../job/schedule.js';
import { DEFAULT_DURATION_BUCKETS } from '../job/metrics.js';
import { addWriteOptions } from './common.js';
import { parseDuration } from './duration.js';

export interface ScheduleFlags {
  schedule?: string;
  onCalendar?: string;
  timer?: string | true;
  tz?: string;
  every?: string;
  grace?: string;
  durationBuckets?: string;
}

/** What the schedule flags read beyond argv: the environment, the clock, and where warnings go. */
export interface ScheduleContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  now(): number;
  warn(message: string): void;
}

/** The flags that say when the job runs; at most one. */
const SCHEDULE_FLAGS = ['schedule', 'onCalendar', 'timer', 'every'] as const;
const FLAG_NAMES: Readonly<Record<(typeof SCHEDULE_FLAGS)[number], string>> = {
  schedule: '--schedule',
  onCalendar: '--on-calendar',
  timer: '--timer',
  every: '--every',
};

/** What a systemd calendar expression has and a crontab line has not: a time with ":", "..", "~", a date, or a word. */
const CALENDAR_LIKE = /:|\.\.|~|\d{4}-|\*-|^\s*(?:minutely|hourly|daily|weekly|monthly|yearly|annually|quarterly|semiannually)\s*$/;

export interface ScheduleSettings {
  readonly schedule?: { readonly schedule: Schedule; readonly graceMs?: number };
  readonly durationBuckets?: readonly number[];
}

/** The write options, then the schedule options. */
export function addScheduleOptions(command: Command): Command {
  return addWriteOptions(command)
    .option(
      '--schedule <cron>',
      "the job's crontab schedule, e.g. '17 3 * * *' or @daily, optionally after CRON_TZ=Zone; records when the next run is due",
    )
    .option(
      '--on-calendar <spec>',
      "the job's systemd calendar expression, as in OnCalendar= (e.g. 'Mon..Fri 06:00', daily, '*-*-* 6:00 Europe/Berlin'); systemd-analyze computes when the next run is due",
    )
    .option(
      '--timer [unit]',
      'the systemd timer that starts the job (default $TRIGGER_UNIT, which systemd sets for a service a timer started): records its next elapse; the default grace adds its RandomizedDelaySec and AccuracySec',
    )
    .option('--tz <zone>', "time zone of --schedule or --on-calendar (default: this system's local time, as cron and systemd use)")
    .option('--every <duration>', 'the job runs every DURATION (e.g. 15m); records when the next run is due')
    .option(
      '--grace <duration>',
      'with --schedule/--on-calendar/--timer/--every: how late a run may start (default a tenth of the interval, at least 1m; for --timer plus RandomizedDelaySec and AccuracySec)',
    )
    .option('--duration-buckets <seconds,...>', `buckets of the run-duration histogram (default ${DEFAULT_DURATION_BUCKETS.join(',')})`);
}

function positive(text: string, what: string): number {
  const ms = parseDuration(text, what);
  if (ms <= 0) throw new InputError('ERR_INVALID_ARGUMENT', `${what} "${text}" must be more than 0`);
  return ms;
}

async function cronSchedule(text: string, tzFlag: string | undefined): Promise<Schedule> {
  const { spec, zone } = splitZone(text);
  if (zone !== undefined && tzFlag !== undefined && zone !== tzFlag)
    throw new InputError('ERR_INVALID_ARGUMENT', `--schedule sets time zone ${zone} but --tz says ${tzFlag}: give one`);
  const tz = zone ?? tzFlag;
  if (tz !== undefined) checkTimeZone(tz, zone !== undefined ? 'CRON_TZ' : '--tz');
  // croner is loaded only for --schedule: every other run starts without it.
  const { parseCronSchedule } = await import('../job/cron.js');
  try {
    return parseCronSchedule(spec, tz);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    const hint = CALENDAR_LIKE.test(spec) ? ' (a systemd calendar expression goes to --on-calendar)' : '';
    throw new InputError(error.code, `--schedule: ${error.message}${hint}`, { cause: error });
  }
}

async function calendarSchedule(text: string, tz: string | undefined, context: ScheduleContext): Promise<Schedule> {
  if (tz !== undefined) checkTimeZone(tz, '--tz');
  const { parseCalendarSchedule } = await import('../job/calendar.js');
  try {
    return parseCalendarSchedule(text, { env: context.env, nowMs: context.now(), ...(tz !== undefined ? { zone: tz } : {}) });
  } catch (error) {
    if (error instanceof InputError) throw new InputError(error.code, `--on-calendar: ${error.message}`, { cause: error });
    throw error;
  }
}

/**
 * --timer: the unit (given, or $TRIGGER_UNIT), read from the running systemd.
 * When systemd started this service for that timer, $TRIGGER_TIMER_REALTIME_USEC
 * says when it fired (systemd's base for the next elapse); job/timer.ts takes the
 * later of it and LastTriggerUSec, since systemd 252 can leave it stale.
 */
async function timerSchedule(flag: string | true, context: ScheduleContext): Promise<Schedule> {
  const { readTimer, timerSchedule: scheduleOf, timerUnitName } = await import('../job/timer.js');
  const trigger = context.env['TRIGGER_UNIT'];
  if (flag === true && !trigger?.endsWith('.timer'))
    throw new InputError(
      'ERR_INVALID_ARGUMENT',
      '--timer without a unit means the timer that started this service ($TRIGGER_UNIT), and no timer did: give the unit, e.g. --timer=apt-daily-upgrade.timer',
    );
  const unit = timerUnitName(flag === true ? (trigger as string) : flag);
  const info = readTimer(unit, { env: context.env });
  if (info.activeState !== 'active')
    context.warn(
      `timer ${info.unit} is ${info.activeState ?? 'not active'}: systemd will not start the job (systemctl enable --now ${info.unit})`,
    );
  const firedAt = trigger === info.unit ? /^\d+$/.exec(context.env['TRIGGER_TIMER_REALTIME_USEC'] ?? '')?.[0] : undefined;
  return scheduleOf(info, { env: context.env, ...(firedAt !== undefined ? { triggeredAtMs: Math.floor(Number(firedAt) / 1000) } : {}) });
}

/** The one schedule flag given, as a schedule. */
async function chosenSchedule(flags: ScheduleFlags, context: ScheduleContext): Promise<Schedule | undefined> {
  if (flags.schedule !== undefined) return cronSchedule(flags.schedule, flags.tz);
  if (flags.onCalendar !== undefined) return calendarSchedule(flags.onCalendar, flags.tz, context);
  if (flags.timer !== undefined) return timerSchedule(flags.timer, context);
  if (flags.every !== undefined) return everySchedule(positive(flags.every, '--every'), flags.every);
  return undefined;
}

/** Check the flags and build the schedule; throws InputError (exit 2) before anything runs. */
export async function scheduleSettings(flags: ScheduleFlags, context: ScheduleContext): Promise<ScheduleSettings> {
  const given = SCHEDULE_FLAGS.filter((flag) => flags[flag] !== undefined).map((flag) => FLAG_NAMES[flag]);
  if (given.length > 1) throw new InputError('ERR_INVALID_ARGUMENT', `${given.join(' and ')} cannot be used together`);
  if (given.length === 0) {
    for (const flag of ['tz', 'grace'] as const)
      if (flags[flag] !== undefined)
        throw new InputError('ERR_INVALID_ARGUMENT', `--${flag} needs --schedule, --on-calendar, --timer or --every`);
  }
  if (flags.tz !== undefined && (flags.every !== undefined || flags.timer !== undefined))
    throw new InputError('ERR_INVALID_ARGUMENT', `--tz applies to --schedule and --on-calendar, not ${given[0]}`);
  const durationBuckets = flags.durationBuckets === undefined ? undefined : parseBuckets(flags.durationBuckets, '--duration-buckets');
  const graceMs = flags.grace === undefined ? undefined : parseDuration(flags.grace, '--grace');
  const schedule = await chosenSchedule(flags, context);
  return {
    ...(schedule ? { schedule: { schedule, ...(graceMs !== undefined ? { graceMs } : {}) } } : {}),
    ...(durationBuckets ? { durationBuckets } : {}),
  };
}
