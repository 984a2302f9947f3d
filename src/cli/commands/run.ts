// run: wrap a batch job and record its outcome (job/run.ts does the work).
import { InputError } from '../../errors.js';
import type { MetricFamily } from '../../format/types.js';
import { startFamilies, type JobOutcome } from '../../job/metrics.js';
import { pushableFamilies, runJob, type RunJobOptions } from '../../job/run.js';
import { checkPush, groupUrl, pushFamilies, redactUrl, type PushOptions } from '../../push/gateway.js';
import { resolveTarget } from '../../textfile/files.js';
import { targetPath, writeOptions, type WriteFlags } from '../common.js';
import { positiveDuration } from '../duration.js';
import { EXIT, type CliIo, type CommandContext } from '../io.js';
import { parseGrouping, warnPushPersistence } from '../push-options.js';
import { printReport, sameSeries, seriesBefore, seriesOfFile, type OutputFlags } from '../report.js';
import { scheduleSettings, type ScheduleFlags } from '../schedule-options.js';
import { parseLabelOptions } from '../series.js';

/** Labels `run` refuses: Prometheus' target labels, and the ones run sets itself. */
const RESERVED_LABELS: Readonly<Record<string, string>> = {
  job: 'it collides with the "job" target label Prometheus adds (it would become exported_job)',
  instance: 'it collides with the "instance" target label Prometheus adds (it would become exported_instance)',
  job_name: 'run sets it from --job',
  result: 'run uses it on promfile_job_runs_total',
};

export interface RunFlags extends WriteFlags, ScheduleFlags, OutputFlags {
  job: string;
  timeout?: string;
  staleAfter?: string;
  killAfter: string;
  overlap?: boolean;
  label?: string[];
  push?: string;
  grouping?: string[];
  allowInstance?: boolean;
  quiet?: boolean;
}

export function runLabels(flags: Pick<RunFlags, 'job' | 'label'>): Record<string, string> {
  const extra = parseLabelOptions(flags.label);
  for (const name of Object.keys(extra)) {
    const why = RESERVED_LABELS[name];
    if (why) throw new InputError('ERR_INVALID_ARGUMENT', `-l ${name}=...: label "${name}" is not allowed: ${why}`);
  }
  return { job_name: flags.job, ...extra };
}

/** The job's file: --file-path, else <dir>/<--file or --job>.prom. The job name must be a plain name either way. */
function runTarget(flags: RunFlags, io: CliIo): string {
  try {
    resolveTarget({ dir: '.', name: flags.job });
  } catch (error) {
    if (error instanceof InputError)
      throw new InputError('ERR_INVALID_ARGUMENT', `--job "${flags.job}": use letters, digits, "_", "." and "-", not starting with "."`);
    throw error;
  }
  return targetPath({ ...flags, ...(flags.filePath === undefined ? { file: flags.file ?? flags.job } : {}) }, io);
}

export async function runAction(io: CliIo, context: CommandContext, command: string[], flags: RunFlags): Promise<void> {
  const path = runTarget(flags, io);
  const before = flags.push === undefined ? await seriesBefore(flags, path) : undefined;
  const labels = runLabels(flags);
  const push: PushOptions | undefined =
    flags.push === undefined
      ? undefined
      : { gateway: flags.push, job: flags.job, grouping: parseGrouping(flags.grouping), allowInstance: flags.allowInstance === true };
  // The guard rails stop the run before the job starts, not as a warning after it.
  if (push) checkPush(startFamilies([], labels, 0), push);
  const job = await jobOptions(io, command, flags, { path, labels, push });
  const run = await runJob(job);
  if (run.skipped) {
    io.stderr.write(`promfile: job ${flags.job} is still running, this run is skipped (--no-overlap): ${run.reason}\n`);
    context.exitCode = EXIT.skipped;
    return;
  }
  await reportRun(io, context, flags, run.outcome, { path, push, before });
}

/** What runJob needs, from the flags: the command, its time limits, how to write or push, and the process's signals. */
async function jobOptions(
  io: CliIo,
  command: string[],
  flags: RunFlags,
  target: { path: string; labels: Record<string, string>; push: PushOptions | undefined },
): Promise<RunJobOptions> {
  const { path, labels, push } = target;
  const timeoutMs = flags.timeout === undefined ? undefined : positiveDuration(flags.timeout, '--timeout', false);
  const staleAfterMs = flags.staleAfter === undefined ? undefined : positiveDuration(flags.staleAfter, '--stale-after', false);
  const killAfterMs = positiveDuration(flags.killAfter, '--kill-after', true);
  const write = { ...(await writeOptions(flags, io, path)), allowEmpty: true };
  const scheduling = await scheduleSettings(flags, {
    env: io.env,
    now: () => io.now(),
    warn: (message) => io.stderr.write(`promfile: warning: ${message}\n`),
  });
  const [executable, ...args] = command as [string, ...string[]];
  return {
    path,
    labels,
    command: executable,
    args,
    env: io.env,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(staleAfterMs !== undefined ? { staleAfterMs } : {}),
    killAfterMs,
    noOverlap: flags.overlap === false,
    ...scheduling,
    write,
    ...(push ? { publish: pushSink(push) } : {}),
    now: () => io.now(),
    onWarning: (message) => io.stderr.write(`promfile: warning: ${message}\n`),
    signals: (forward) => {
      const off = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((signal) => io.onSignal(signal, () => forward(signal)));
      return () => off.forEach((unsubscribe) => unsubscribe());
    },
  };
}

/** --push: the run's metrics go to the Pushgateway instead of the textfile. */
function pushSink(push: PushOptions): NonNullable<RunJobOptions['publish']> {
  return {
    where: redactUrl(push.gateway),
    send: (families: MetricFamily[], succeeded: boolean) =>
      pushFamilies(pushableFamilies(families, succeeded), { ...push, method: 'post' }),
  };
}

/** After the job: why it failed (on stderr), its exit status as ours, and the JSON report. */
async function reportRun(
  io: CliIo,
  context: CommandContext,
  flags: RunFlags,
  outcome: JobOutcome,
  where: { path: string; push: PushOptions | undefined; before: Set<string> | undefined },
): Promise<void> {
  const { path, push, before } = where;
  if (push && !flags.quiet) warnPushPersistence(io, push, push.allowInstance === true);
  if (outcome.detail !== undefined && outcome.result === 'failure') io.stderr.write(`promfile: ${outcome.detail}\n`);
  if (outcome.result === 'timeout') io.stderr.write(`promfile: job ${flags.job} timed out after ${flags.timeout}\n`);
  context.exitCode = outcome.status;
  if (flags.format !== 'json') return;
  const after = push ? undefined : await seriesOfFile(path);
  printReport(io, context, {
    file: push ? groupUrl(push) : path,
    changed: after === undefined || !sameSeries(before ?? new Set(), after),
    written: true,
    dryRun: false,
    job: flags.job,
    result: outcome.result,
    exitCode: outcome.status,
  });
}
