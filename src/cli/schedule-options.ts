// run's schedule flags (--schedule, --tz, --every, --grace) and
// --duration-buckets, checked before the job starts.
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { parseBuckets } from '../format/histogram.js';
import { checkTimeZone, everySchedule, splitZone, type Schedule } from '../job/schedule.js';
import { DEFAULT_DURATION_BUCKETS } from '../job/metrics.js';
import { addWriteOptions } from './common.js';
import { parseDuration } from './duration.js';

export interface ScheduleFlags {
  schedule?: string;
  tz?: string;
  every?: string;
  grace?: string;
  durationBuckets?: string;
}

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
    .option('--tz <zone>', "time zone of --schedule (default: this system's local time, as Debian's cron uses)")
    .option('--every <duration>', 'the job runs every DURATION (e.g. 15m); records when the next run is due')
    .option('--grace <duration>', 'with --schedule/--every: how late a run may start (default a tenth of the interval, at least 1m)')
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
    if (error instanceof InputError) throw new InputError(error.code, `--schedule: ${error.message}`, { cause: error });
    throw error;
  }
}

/** Check the flags and build the schedule; throws InputError (exit 2) before anything runs. */
export async function scheduleSettings(flags: ScheduleFlags): Promise<ScheduleSettings> {
  if (flags.schedule !== undefined && flags.every !== undefined)
    throw new InputError('ERR_INVALID_ARGUMENT', '--schedule and --every cannot be used together');
  if (flags.schedule === undefined && flags.every === undefined) {
    for (const flag of ['tz', 'grace'] as const)
      if (flags[flag] !== undefined) throw new InputError('ERR_INVALID_ARGUMENT', `--${flag} needs --schedule or --every`);
  }
  if (flags.tz !== undefined && flags.every !== undefined)
    throw new InputError('ERR_INVALID_ARGUMENT', '--tz applies to --schedule, not --every');
  const durationBuckets = flags.durationBuckets === undefined ? undefined : parseBuckets(flags.durationBuckets, '--duration-buckets');
  const schedule =
    flags.schedule !== undefined
      ? await cronSchedule(flags.schedule, flags.tz)
      : flags.every !== undefined
        ? everySchedule(positive(flags.every, '--every'), flags.every)
        : undefined;
  const graceMs = flags.grace === undefined ? undefined : parseDuration(flags.grace, '--grace');
  return {
    ...(schedule ? { schedule: { schedule, ...(graceMs !== undefined ? { graceMs } : {}) } } : {}),
    ...(durationBuckets ? { durationBuckets } : {}),
  };
}
