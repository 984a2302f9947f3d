// `promfile run`: run a batch job (spawn, timeout, signals, --no-overlap,
// $PROMFILE_METRICS) and record its metrics (job-metrics.ts) in the textfile
// or on a Pushgateway. Kept light (no prom-client): it wraps every cron job,
// so its start-up time is overhead on every run.
import { tmpdir } from 'node:os';
import { basename, dirname } from 'node:path';
import { makeScratch } from './scratch.js';
import { startChild, type Child } from './spawn.js';
import { errnoOf, IoError, messageOf, PromfileError } from '../errors.js';
import { acquireLock, lockPathFor, removeLockIfFree, type Lock } from '../textfile/lock.js';
import { updateTextfile, type UpdateOptions } from '../textfile/update.js';
import { pinDirectory, type PinnedDirectory } from '../textfile/pin.js';
import { readRegularFileUpTo } from '../textfile/files.js';
import {
  classifyExit,
  endFamilies,
  JOB_METRICS,
  mergeJobMetrics,
  parseJobMetrics,
  skippedFamilies,
  startFamilies,
  type JobOutcome,
  type ProcessExit,
  type TransitionOptions,
} from './metrics.js';
import { scheduleTimes, type Schedule } from './schedule.js';
import type { Labels, MetricFamily } from '../format/types.js';

const SPAWN_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'command not found',
  EACCES: 'permission denied (not executable, or a directory)',
  ENOEXEC: 'not an executable format (a script needs a #! line)',
};

/** The --no-overlap lock of a target: `.<name>.prom.run.lock`, not ending in .prom. */
export function runLockPathFor(targetPath: string): string {
  return lockPathFor(targetPath).replace(/\.lock$/, '.run.lock');
}

/** Subscribe to the signals promfile forwards; returns the unsubscribe function. */
export type SignalSubscriber = (forward: (signal: NodeJS.Signals) => void) => () => void;

export interface RunJobOptions {
  /** The .prom file to record the run in. */
  readonly path: string;
  /** Labels of the status series: job_name and any others. */
  readonly labels: Labels;
  readonly command: string;
  readonly args: readonly string[];
  /** Environment of the job (PROMFILE_METRICS is added). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly timeoutMs?: number;
  /** Recorded for the rules: the job's file is stale once no run has started for this long. */
  readonly staleAfterMs?: number;
  readonly killAfterMs?: number;
  /** When runs are due: next run, interval and grace are recorded at each start. */
  readonly schedule?: { readonly schedule: Schedule; readonly graceMs?: number };
  /** Bucket bounds of the duration histogram. */
  readonly durationBuckets?: readonly number[];
  /**
   * Hold `.<name>.prom.run.lock` while any process of the job lives (the job
   * inherits the locked descriptor as fd 3); skip the run if it is held.
   */
  readonly noOverlap?: boolean;
  /** How the file is written (mode, owner, mkdir, lock wait). */
  readonly write?: UpdateOptions;
  /** Where the private PROMFILE_METRICS directory is made; default os.tmpdir(). */
  readonly scratchRoot?: string;
  now(): number;
  /** Metrics-writing problems: reported, never fatal to the job. */
  onWarning(message: string): void;
  /** Called once the job is started, so the caller can forward signals (SIGINT, SIGTERM) to it. */
  readonly signals?: SignalSubscriber;
  /**
   * Publish the run's metrics elsewhere (a Pushgateway) instead of writing
   * `path`: given the families of this state change, built from nothing.
   * `where` names the destination in warnings.
   */
  readonly publish?: { readonly where: string; send(families: MetricFamily[], succeeded: boolean): Promise<unknown> };
}

/**
 * What a run pushes: POST replaces only the families pushed, so the gateway
 * keeps the last success time when this run failed; run's counters and its
 * duration histogram are left out, since each push would restart them.
 */
export function pushableFamilies(families: readonly MetricFamily[], succeeded: boolean): MetricFamily[] {
  return families.filter(
    (f) =>
      f.name !== JOB_METRICS.runs.name &&
      f.name !== JOB_METRICS.skipped.name &&
      f.name !== JOB_METRICS.runDuration.name &&
      (succeeded || f.name !== JOB_METRICS.lastSuccess.name),
  );
}

/** What a run has said about its textfile already: the start and the end write judge the same directory. */
const warned = new WeakMap<RunJobOptions, Set<string>>();

/** Record a state change: in the textfile (locked read-modify-write), or published elsewhere (from nothing). */
async function record(
  options: RunJobOptions,
  write: UpdateOptions,
  change: (current: MetricFamily[]) => MetricFamily[],
  succeeded = false,
): Promise<unknown> {
  if (options.publish) return options.publish.send(change([]), succeeded);
  const result = await updateTextfile(options.path, change, write);
  const seen = warned.get(options) ?? new Set<string>();
  warned.set(options, seen);
  for (const { message } of result.warnings) if (!seen.has(message) && seen.add(message)) options.onWarning(`${options.path}: ${message}`);
  return result;
}

export type RunJobResult = { readonly skipped: false; readonly outcome: JobOutcome } | { readonly skipped: true; readonly reason: string };

/**
 * Run a job and record it: status metrics at start (atomically) and at the
 * end, merged with the job's own metrics. Failing to write metrics is a
 * warning; the job runs and its status is returned regardless.
 */
export async function runJob(options: RunJobOptions): Promise<RunJobResult> {
  const write = options.write ?? {};
  const transition = {
    noOverlap: options.noOverlap === true,
    ...(options.durationBuckets ? { durationBuckets: options.durationBuckets } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.staleAfterMs !== undefined ? { staleAfterMs: options.staleAfterMs } : {}),
  };
  let pinned: PinnedDirectory | undefined;
  let runLock: Lock | undefined;
  if (options.noOverlap) {
    pinned = await pinDirectory(dirname(options.path), write).catch((error: unknown) => {
      if (error instanceof IoError)
        throw new IoError(error.code, `--no-overlap keeps its lock in the textfile directory, so the job was not run: ${error.message}`, {
          cause: error,
        });
      throw error;
    });
    try {
      runLock = await acquireLock(pinned.at(basename(runLockPathFor(options.path))), { timeoutMs: 0 });
    } catch (caught) {
      const error = pinned.relabel(caught);
      await pinned.close();
      if (!(error instanceof IoError && error.code === 'ERR_LOCK_BUSY')) throw error;
      const schedule = options.schedule && scheduleTimes(options.schedule.schedule, options.now(), options.schedule.graceMs);
      await updateTextfile(options.path, (current) => skippedFamilies(current, options.labels, schedule), write).catch(
        (writeError: unknown) => options.onWarning(`cannot record the skipped run in ${options.path}: ${messageOf(writeError)}`),
      );
      return { skipped: true, reason: error.message };
    }
  }
  try {
    return { skipped: false, outcome: await runAndRecord(options, write, transition, runLock?.fd) };
  } finally {
    if (runLock) {
      // The job's processes may still hold it: only a lock nobody holds is removed.
      await runLock.release();
      await removeLockIfFree(runLock.path).catch(() => undefined);
    }
    await pinned?.close();
  }
}

async function runAndRecord(
  options: RunJobOptions,
  write: UpdateOptions,
  transition: TransitionOptions,
  lockFd: number | undefined,
): Promise<JobOutcome> {
  const pending: NodeJS.Signals[] = [];
  let job: Child | undefined;
  // Subscribe before anything else so a signal during the start write is not lost: it is passed on once the job exists.
  const unsubscribe = options.signals?.((signal) => (job ? job.forward(signal) : pending.push(signal)));
  const scratchRoot = options.scratchRoot ?? tmpdir();
  const scratch = await makeScratch(scratchRoot).catch((error: unknown) => {
    options.onWarning(`cannot create the PROMFILE_METRICS scratch directory, the job's own metrics are off: ${messageOf(error)}`);
    return undefined;
  });
  try {
    const startMs = options.now();
    const schedule = options.schedule && scheduleTimes(options.schedule.schedule, startMs, options.schedule.graceMs);
    const atStart = schedule ? { ...transition, schedule } : transition;
    await record(options, write, (current) => startFamilies(current, options.labels, startMs, atStart)).catch(
      cannotRecord(options, 'start'),
    );
    job = startChild(options.command, options.args, {
      env: scratch ? { ...options.env, PROMFILE_METRICS: scratch.file } : options.env,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.killAfterMs !== undefined ? { killAfterMs: options.killAfterMs } : {}),
      ...(lockFd !== undefined ? { extraFd: lockFd } : {}),
    });
    for (const signal of pending) job.forward(signal);
    const exit = await job.exit;
    const outcome = outcomeOf(exit, options.command, startMs, options.now());
    const jobFamilies = scratch ? await readJobMetrics(scratch.file, options) : [];
    await record(
      options,
      write,
      (current) => {
        const families = endFamilies(current, options.labels, outcome, transition);
        if (jobFamilies.length === 0) return families;
        const merged = mergeJobMetrics(families, jobFamilies);
        if ('families' in merged) return merged.families;
        options.onWarning(`the job's own metrics were dropped: ${merged.error}`);
        return families;
      },
      outcome.result === 'success',
    ).catch(cannotRecord(options, 'end'));
    return outcome;
  } finally {
    unsubscribe?.();
    const left = await scratch?.remove();
    if (left !== undefined) options.onWarning(left);
  }
}

/** The run's outcome from the job's exit: result, status, times, and what went wrong where it can say. */
function outcomeOf(exit: ProcessExit, command: string, startMs: number, endMs: number): JobOutcome {
  const { result, status } = classifyExit(exit);
  const detail =
    exit.spawnError !== undefined
      ? `cannot run ${command}: ${SPAWN_ERRORS[exit.spawnError] ?? exit.spawnError}`
      : (exit.signal ?? undefined);
  return { result, status, startMs, endMs, ...(detail !== undefined ? { detail } : {}) };
}

/** A failed write of the start or end is a warning: the job itself runs (or has run) all the same. */
function cannotRecord(options: RunJobOptions, what: 'start' | 'end'): (error: unknown) => void {
  return (error) =>
    options.onWarning(
      `cannot record the ${what} of the job in ${options.publish ? options.publish.where : options.path}: ${messageOf(error)}`,
    );
}

/** Largest $PROMFILE_METRICS read: far more than a job's own metrics need, and a bound on memory whatever the job leaves there. */
export const MAX_JOB_METRICS_BYTES = 16 * 1024 * 1024;

/**
 * The job's own metrics. The job may leave anything at that path (a FIFO, a
 * link to /dev/zero or /dev/stdout, gigabytes): it is opened without
 * following a link and without blocking, and read only if it is a regular
 * file within the limit; otherwise a warning, and the run is recorded without them.
 */
async function readJobMetrics(file: string, options: RunJobOptions): Promise<MetricFamily[]> {
  const ignored = (why: string): MetricFamily[] => {
    options.onWarning(`$PROMFILE_METRICS: ${why}; the job's own metrics are ignored`);
    return [];
  };
  let bytes: Uint8Array | undefined;
  try {
    bytes = await readRegularFileUpTo(file, { follow: false }, MAX_JOB_METRICS_BYTES);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return [];
    if (errnoOf(error) === 'ELOOP') return ignored(`${file} is a symbolic link, which is not followed`);
    if (error instanceof IoError && error.code === 'ERR_UNSAFE_TARGET') return ignored(error.message);
    options.onWarning(`cannot read the job's own metrics: ${messageOf(error)}`);
    return [];
  }
  if (bytes === undefined) return ignored(`${file} is larger than ${MAX_JOB_METRICS_BYTES / 1024 / 1024} MiB (the limit)`);
  try {
    return parseJobMetrics(bytes, options.labels, (notice) =>
      options.onWarning(`$PROMFILE_METRICS: ${notice.line === undefined ? '' : `line ${notice.line}: `}${notice.message}`),
    );
  } catch (error) {
    if (!(error instanceof PromfileError)) throw error;
    options.onWarning(`the job's own metrics were dropped: ${error.message}`);
    return [];
  }
}
