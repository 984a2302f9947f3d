// The metrics `promfile run` records, as pure functions of the previous
// file's families and the run's outcome: start, end, duration, exit code,
// last success (carried over on failure), running, runs by result, skips,
// the schedule (next run, interval, grace), the run's --timeout and the
// duration histogram (the thresholds `promfile rules` compares against); and
// the job's own metrics from $PROMFILE_METRICS. Tested without spawning.
import { constants } from 'node:os';
import { InputError, PromfileError } from '../errors.js';
import { observeHistogram } from '../format/histogram.js';
import { DEFAULT_HELP, getSeries, mergeFamilies } from '../format/model.js';
import { parseExposition } from '../format/parse.js';
import { assertWritable, describeSeries } from '../format/validate.js';
import { boundLabel } from '../format/shape.js';
import type { Labels, MetricFamily, MetricType, Problem } from '../format/types.js';
import type { ScheduleTimes } from './schedule.js';

export type RunResult = 'success' | 'failure' | 'timeout' | 'signal';
export const RUN_RESULTS: readonly RunResult[] = ['success', 'failure', 'timeout', 'signal'];

/** Prefix of the metrics `run` owns; a job's own metrics may not use it. */
export const JOB_METRIC_PREFIX = 'promfile_job_';

/** Name, type and HELP of every metric `run` writes. The HELP is the same in every file, as node_exporter requires. */
export const JOB_METRICS = {
  lastStart: { name: 'promfile_job_last_start_timestamp_seconds', type: 'gauge', help: 'Unix time the last run of the job started.' },
  lastEnd: {
    name: 'promfile_job_last_end_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time the last run of the job ended, whatever its result.',
  },
  lastSuccess: {
    name: 'promfile_job_last_success_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time the job last ended successfully (exit status 0); 0 if it has not yet.',
  },
  duration: { name: 'promfile_job_duration_seconds', type: 'gauge', help: 'How long the last run of the job took, in seconds.' },
  exitCode: {
    name: 'promfile_job_exit_code',
    type: 'gauge',
    help: 'Exit status of the last run, as a shell reports it: 128+N for signal N, 124 for a timeout, 126/127 when the command could not be started.',
  },
  running: { name: 'promfile_job_running', type: 'gauge', help: 'Whether the job is running now (1) or not (0).' },
  runs: { name: 'promfile_job_runs_total', type: 'counter', help: 'Runs of the job by result: success, failure, timeout or signal.' },
  skipped: {
    name: 'promfile_job_skipped_total',
    type: 'counter',
    help: 'Runs of the job skipped by --no-overlap because the previous run was still going.',
  },
  nextRun: {
    name: 'promfile_job_next_run_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time the next run of the job is due (--schedule or --every), computed when the last run started.',
  },
  interval: { name: 'promfile_job_interval_seconds', type: 'gauge', help: 'Seconds between the last run and the next one due.' },
  grace: {
    name: 'promfile_job_grace_seconds',
    type: 'gauge',
    help: 'How late the next run may start before it counts as missed (--grace; default a tenth of the interval, at least 60).',
  },
  timeout: {
    name: 'promfile_job_timeout_seconds',
    type: 'gauge',
    help: 'The --timeout of the last run, in seconds: a run still going after this long is sent SIGTERM.',
  },
  staleAfter: {
    name: 'promfile_job_stale_after_seconds',
    type: 'gauge',
    help: "The --stale-after of the last run, in seconds: the job's file is stale once no run has started for this long.",
  },
  runDuration: {
    name: 'promfile_job_run_duration_seconds',
    type: 'histogram',
    help: 'How long runs of the job took, in seconds, across runs; restarts when --duration-buckets changes.',
  },
} as const satisfies Record<string, { name: string; type: MetricType; help: string }>;

type JobMetric = (typeof JOB_METRICS)[keyof typeof JOB_METRICS];

/** How a run ended: the result recorded and the exit status promfile returns. */
export interface JobOutcome {
  readonly result: RunResult;
  /** Shell-style exit status: the job's, 128+N for signal N, 124 timeout, 127 not found, 126 not executable. */
  readonly status: number;
  readonly startMs: number;
  readonly endMs: number;
  /** Why the command could not be started, or which signal ended it. */
  readonly detail?: string;
}

/** What the child process did, as Node reports it. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** errno code when spawning failed (ENOENT, EACCES, ...). */
  readonly spawnError?: string;
  readonly timedOut: boolean;
}

export const EXIT_TIMEOUT = 124;
export const EXIT_NOT_EXECUTABLE = 126;
export const EXIT_NOT_FOUND = 127;

/** Classify an exit the way a shell and timeout(1) report it. */
export function classifyExit(exit: ProcessExit): { result: RunResult; status: number } {
  if (exit.spawnError !== undefined)
    return { result: 'failure', status: exit.spawnError === 'ENOENT' ? EXIT_NOT_FOUND : EXIT_NOT_EXECUTABLE };
  if (exit.timedOut) return { result: 'timeout', status: EXIT_TIMEOUT };
  if (exit.signal !== null) return { result: 'signal', status: 128 + (constants.signals[exit.signal] ?? 0) };
  const code = exit.code ?? 1;
  return { result: code === 0 ? 'success' : 'failure', status: code };
}

function family(metric: JobMetric, samples: ReadonlyArray<{ labels: Labels; value: number }>): MetricFamily {
  return {
    name: metric.name,
    help: metric.help,
    type: metric.type,
    samples: samples.map(({ labels, value }) => ({ name: metric.name, labels, value })),
  };
}

function single(metric: JobMetric, labels: Labels, value: number): MetricFamily {
  return family(metric, [{ labels, value }]);
}

function counterValue(families: readonly MetricFamily[], metric: JobMetric, labels: Labels): number {
  const value = getSeries(families, metric.name, labels)?.value;
  return value === undefined || !Number.isFinite(value) ? 0 : value;
}

/** Default --duration-buckets: one second to a day, for batch jobs. */
export const DEFAULT_DURATION_BUCKETS: readonly number[] = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 28800, 86400];

export interface TransitionOptions {
  /** Also keep promfile_job_skipped_total (initialised at 0) so `increase()` sees the first skip. */
  readonly noOverlap?: boolean;
  /** The schedule metrics to write at the start (--schedule/--every); without, earlier ones are kept. */
  readonly schedule?: ScheduleTimes;
  /** Bucket bounds of promfile_job_run_duration_seconds; default DEFAULT_DURATION_BUCKETS. */
  readonly durationBuckets?: readonly number[];
  /** The run's --timeout: recorded at its start and its end; a run without one leaves none. */
  readonly timeoutMs?: number;
  /** The run's --stale-after: recorded as the timeout is. */
  readonly staleAfterMs?: number;
}

function skippedFamily(previous: readonly MetricFamily[], labels: Labels, increment: number): MetricFamily {
  return single(JOB_METRICS.skipped, labels, counterValue(previous, JOB_METRICS.skipped, labels) + increment);
}

/** Same label set, ignoring runs_total's `result`. */
function sameLabels(sample: Labels, labels: Labels, bound?: string): boolean {
  // runs_total's result and a histogram's le are not part of the job's label set.
  const names = Object.keys(sample).filter((name) => name !== 'result' && name !== bound);
  return names.length === Object.keys(labels).length && names.every((name) => sample[name] === labels[name]);
}

/**
 * The families without this job's series (those labelled with its job_name):
 * all of them, or with `statusOnly` the promfile_job_* series of another label set.
 */
function withoutJobSeries(families: readonly MetricFamily[], labels: Labels, statusOnly: boolean): MetricFamily[] {
  const jobName = labels['job_name'];
  const isOld = (family: MetricFamily, sample: Labels): boolean =>
    sample['job_name'] === jobName &&
    (!statusOnly || (family.name.startsWith(JOB_METRIC_PREFIX) && !sameLabels(sample, labels, boundLabel(family.type))));
  return families
    .map((family) => ({ ...family, samples: family.samples.filter((sample) => !isOld(family, sample.labels)) }))
    .filter((family) => family.samples.length > 0);
}

/**
 * The file at the start of a run: start time and running 1; the previous run's results are kept.
 * Status series of the job under another label set (`-l` changed) are dropped.
 */
export function startFamilies(
  previous: readonly MetricFamily[],
  labels: Labels,
  startMs: number,
  options: TransitionOptions = {},
): MetricFamily[] {
  const incoming = [single(JOB_METRICS.lastStart, labels, startMs / 1000), single(JOB_METRICS.running, labels, 1)];
  if (options.noOverlap) incoming.push(skippedFamily(previous, labels, 0));
  incoming.push(...scheduleFamilies(labels, options.schedule), ...thresholdFamilies(labels, options));
  // The thresholds are this run's: an earlier run's would judge a run that has none.
  const kept = withoutJobSeries(previous, labels, true).map((f) =>
    THRESHOLD_NAMES.has(f.name) ? { ...f, samples: f.samples.filter((s) => !sameLabels(s.labels, labels)) } : f,
  );
  return mergeFamilies(
    kept.filter((f) => f.samples.length > 0),
    incoming,
  );
}

const THRESHOLD_NAMES: ReadonlySet<string> = new Set([JOB_METRICS.timeout.name, JOB_METRICS.staleAfter.name]);

/** promfile_job_timeout_seconds and promfile_job_stale_after_seconds, for the flags the run has. */
function thresholdFamilies(labels: Labels, options: TransitionOptions): MetricFamily[] {
  const families: MetricFamily[] = [];
  if (options.timeoutMs !== undefined) families.push(single(JOB_METRICS.timeout, labels, options.timeoutMs / 1000));
  if (options.staleAfterMs !== undefined) families.push(single(JOB_METRICS.staleAfter, labels, options.staleAfterMs / 1000));
  return families;
}

/**
 * The file at the end of a run: every earlier series of the job goes (another
 * label set, or metrics an earlier run wrote into $PROMFILE_METRICS; this
 * run's are merged in afterwards), so the file shows this run. The last
 * success time is set on success and otherwise carried over (0 if the job
 * never succeeded), which is what "has not succeeded for too long" alerts
 * need. runs_total keeps all four results so `increase()` works from the
 * first run of each.
 */
export function endFamilies(
  previous: readonly MetricFamily[],
  labels: Labels,
  outcome: JobOutcome,
  options: TransitionOptions = {},
): MetricFamily[] {
  const endSeconds = outcome.endMs / 1000;
  const seconds = Math.max(0, outcome.endMs - outcome.startMs) / 1000;
  const incoming = [
    single(JOB_METRICS.lastStart, labels, outcome.startMs / 1000),
    single(JOB_METRICS.lastEnd, labels, endSeconds),
    single(JOB_METRICS.duration, labels, seconds),
    single(JOB_METRICS.exitCode, labels, outcome.status),
    single(JOB_METRICS.running, labels, 0),
    family(
      JOB_METRICS.runs,
      RUN_RESULTS.map((result) => {
        const series = { ...labels, result };
        return { labels: series, value: counterValue(previous, JOB_METRICS.runs, series) + (result === outcome.result ? 1 : 0) };
      }),
    ),
    single(
      JOB_METRICS.lastSuccess,
      labels,
      outcome.result === 'success' ? endSeconds : (getSeries(previous, JOB_METRICS.lastSuccess.name, labels)?.value ?? 0),
    ),
  ];
  if (outcome.result === 'success') incoming.push(single(JOB_METRICS.lastSuccess, labels, endSeconds));
  else if (!getSeries(previous, JOB_METRICS.lastSuccess.name, labels)) incoming.push(single(JOB_METRICS.lastSuccess, labels, 0));
  if (options.noOverlap || getSeries(previous, JOB_METRICS.skipped.name, labels)) incoming.push(skippedFamily(previous, labels, 0));
  incoming.push(...thresholdFamilies(labels, options));
  // The schedule recorded at the start stays: the end of a run does not change when the next is due.
  for (const metric of [JOB_METRICS.nextRun, JOB_METRICS.interval, JOB_METRICS.grace]) {
    const recorded = getSeries(previous, metric.name, labels);
    if (recorded) incoming.push(single(metric, labels, recorded.value));
  }
  const { runDuration } = JOB_METRICS;
  const buckets = options.durationBuckets ?? DEFAULT_DURATION_BUCKETS;
  const observed = observeHistogram(previous, { name: runDuration.name, help: runDuration.help, labels, value: seconds, buckets });
  incoming.push(observed.families.find((f) => f.name === runDuration.name) as MetricFamily);
  return mergeFamilies(withoutJobSeries(previous, labels, false), incoming);
}

/**
 * The file after a run skipped by --no-overlap: the skip counter moves, and with a schedule the next
 * run is recorded as a run would record it (the missed-run alert watches it: left at the long run's
 * value, it went pending every interval while the job was merely long). The rest stays.
 */
export function skippedFamilies(previous: readonly MetricFamily[], labels: Labels, schedule?: ScheduleTimes): MetricFamily[] {
  return mergeFamilies(previous, [skippedFamily(previous, labels, 1), ...scheduleFamilies(labels, schedule)]);
}

/** The schedule metrics of a run (or a skipped one) at its start. */
function scheduleFamilies(labels: Labels, schedule: ScheduleTimes | undefined): MetricFamily[] {
  if (!schedule) return [];
  return [
    single(JOB_METRICS.nextRun, labels, schedule.nextMs / 1000),
    single(JOB_METRICS.interval, labels, schedule.intervalMs / 1000),
    single(JOB_METRICS.grace, labels, schedule.graceMs / 1000),
  ];
}

/**
 * Parse what a job wrote to $PROMFILE_METRICS: strict exposition text, no
 * promfile_job_* names, and the run's labels added to every series that lacks
 * them (so two jobs writing the same metric into their own files do not
 * collide in node_exporter). Throws on anything node_exporter would not take.
 */
export function parseJobMetrics(input: string | Uint8Array, labels: Labels, onNotice?: (problem: Problem) => void): MetricFamily[] {
  const source = '$PROMFILE_METRICS';
  const parsed = parseExposition(input, {
    source,
    stripTimestamps: true,
    ...(onNotice ? { onNotice } : {}),
  });
  refuseOwnLabels(parsed, source);
  const reserved = parsed.find((f) => f.name.startsWith(JOB_METRIC_PREFIX));
  if (reserved)
    throw new InputError(
      'ERR_INVALID_EXPOSITION',
      `${source}: "${reserved.name}": names starting with ${JOB_METRIC_PREFIX} are written by promfile run itself`,
    );
  // HELP on every family, as for `set`: node_exporter merges same-named families across files only when all have one.
  const families = parsed.map((f) => ({
    ...f,
    help: f.help || DEFAULT_HELP,
    samples: f.samples.map((sample) => ({ ...sample, labels: { ...labels, ...sample.labels } })),
  }));
  assertWritable(
    families.filter((f) => f.samples.length > 0),
    source,
  );
  return families;
}

/** Labels a job may not set on its own metrics: run sets job_name; Prometheus sets job and instance. */
const JOB_OWNED_LABELS = ['job_name', 'job', 'instance'];

function refuseOwnLabels(families: readonly MetricFamily[], source: string): void {
  for (const family of families) {
    for (const sample of family.samples) {
      const label = JOB_OWNED_LABELS.find((name) => Object.hasOwn(sample.labels, name));
      if (label)
        throw new InputError(
          'ERR_INVALID_EXPOSITION',
          `${source}: ${describeSeries(sample)}: a job may not set the "${label}" label on its own metrics (${label === 'job_name' ? 'promfile run sets it from --job' : 'Prometheus sets it on every series it scrapes'})`,
        );
    }
  }
}

/** Merge the job's own metrics into the status families, or say why the result would not be writable. */
export function mergeJobMetrics(
  families: readonly MetricFamily[],
  jobFamilies: readonly MetricFamily[],
): { families: MetricFamily[] } | { error: string } {
  try {
    const merged = mergeFamilies(families, jobFamilies);
    assertWritable(merged.filter((f) => f.samples.length > 0));
    return { families: merged };
  } catch (error) {
    if (error instanceof PromfileError) return { error: error.message };
    throw error;
  }
}
