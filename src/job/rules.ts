// `promfile rules`: Prometheus alerting rules for the jobs `promfile run`
// records in a textfile directory. The thresholds come from the jobs' own
// metrics (next run + grace, median duration), so nothing needs hand tuning;
// only the stale-file rule bakes in each file's interval as found now.
import { basename } from 'node:path';
import { formatAge, listDirectory } from '../textfile/inventory.js';
import { readFamilies } from '../textfile/update.js';
import type { MetricFamily } from '../format/types.js';
import { JOB_METRICS } from './metrics.js';
import { printable } from '../errors.js';

/** A job found in the directory. */
export interface FoundJob {
  readonly name: string;
  /** The .prom file it is recorded in. */
  readonly file: string;
  /** Its promfile_job_interval_seconds + grace, when it runs on a schedule. */
  readonly intervalSeconds?: number;
  readonly graceSeconds?: number;
}

function firstValue(families: readonly MetricFamily[], name: string, job: string): number | undefined {
  return families.find((f) => f.name === name)?.samples.find((s) => s.labels['job_name'] === job)?.value;
}

/** The jobs recorded in the directory's *.prom files (unreadable or invalid files are skipped). */
export async function findJobs(dir: string): Promise<FoundJob[]> {
  const jobs: FoundJob[] = [];
  for (const entry of await listDirectory(dir)) {
    if (entry.kind !== 'textfile') continue;
    const families = await readFamilies(entry.path).catch(() => undefined);
    const starts = families?.find((f) => f.name === JOB_METRICS.lastStart.name);
    if (!families || !starts) continue;
    for (const name of new Set(starts.samples.map((s) => s.labels['job_name']).filter((n): n is string => n !== undefined))) {
      const intervalSeconds = firstValue(families, JOB_METRICS.interval.name, name);
      const graceSeconds = firstValue(families, JOB_METRICS.grace.name, name);
      jobs.push({
        name,
        file: basename(entry.path),
        ...(intervalSeconds !== undefined ? { intervalSeconds } : {}),
        ...(graceSeconds !== undefined ? { graceSeconds } : {}),
      });
    }
  }
  return jobs;
}

export interface RuleOptions {
  readonly jobs: readonly FoundJob[];
  /** Alert when a run has gone on longer than this (seconds); default: factor × median. */
  readonly timeoutSeconds?: number;
  /** "Running too long" = this many times the median duration (default 3) ... */
  readonly slowFactor?: number;
  /** ... and at least this long (seconds, default 600). */
  readonly slowFloorSeconds?: number;
  /** Stale threshold (seconds) for files of jobs without a schedule; default two days. */
  readonly staleAfterSeconds?: number;
  /** Base URL of the runbook; each alert adds `#<alertname in lower case>`. */
  readonly runbookUrl?: string;
}

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** A PromQL regex matching exactly these strings. */
function alternatives(values: readonly string[]): string {
  const escaped = [...new Set(values)].sort().map((v) => v.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&'));
  return escaped.join('|');
}

/** A PromQL string literal (double-quoted). */
function quote(text: string): string {
  return JSON.stringify(text);
}

/** Seconds as a short text ("2h", "2d2h"). */
function human(seconds: number): string {
  return formatAge(seconds * 1000);
}

const WHERE = 'Job {{ $labels.job_name }} on {{ $labels.instance }}';

function rule(
  alert: string,
  expr: string,
  duration: string,
  severity: string,
  summary: string,
  runbook: string,
  options: RuleOptions,
): AlertRule {
  return {
    alert,
    expr,
    for: duration,
    labels: { severity },
    annotations: {
      summary,
      runbook,
      ...(options.runbookUrl !== undefined ? { runbook_url: `${options.runbookUrl}#${alert.toLowerCase()}` } : {}),
    },
  };
}

/** Stale-file thresholds: two intervals plus grace for scheduled jobs, else `staleAfterSeconds`; files grouped by threshold. */
function staleGroups(options: RuleOptions): Map<number, string[]> {
  const groups = new Map<number, string[]>();
  for (const job of options.jobs) {
    const limit =
      job.intervalSeconds !== undefined
        ? Math.ceil(2 * job.intervalSeconds + (job.graceSeconds ?? 0))
        : (options.staleAfterSeconds ?? 2 * 86400);
    groups.set(limit, [...(groups.get(limit) ?? []), job.file]);
  }
  return groups;
}

/** The alerting rules for the jobs. */
// eslint-disable-next-line max-lines-per-function -- a table: one entry per alert, read top to bottom like the rules file it becomes
export function alertRules(options: RuleOptions): AlertRule[] {
  const job = `job_name=~${quote(alternatives(options.jobs.map((j) => j.name)))}`;
  const m = (metric: { name: string }): string => `${metric.name}{${job}}`;
  const factor = options.slowFactor ?? 3;
  const floor = options.slowFloorSeconds ?? 600;
  const elapsed = `(time() - ${m(JOB_METRICS.lastStart)})`;
  const running = `${m(JOB_METRICS.running)} == 1`;
  const rules = [
    rule(
      'PromfileJobMissedRun',
      `time() - (${m(JOB_METRICS.nextRun)} + ${m(JOB_METRICS.grace)}) > 0`,
      '1m',
      'critical',
      `${WHERE} did not start when due (next run + grace has passed)`,
      'The job did not start: check the crontab/timer and the cron log (journalctl -u cron), the host clock, and that promfile can write the textfile directory.',
      options,
    ),
    rule(
      'PromfileJobFailed',
      `${m(JOB_METRICS.exitCode)} != 0`,
      '1m',
      'warning',
      `${WHERE} failed: exit status {{ $value }}`,
      "Read the job's output (cron mails it, or journalctl); exit status 124 is --timeout, 128+N signal N, 127 command not found. Resolves when a run succeeds.",
      options,
    ),
    options.timeoutSeconds !== undefined
      ? rule(
          'PromfileJobRunningTooLong',
          `${elapsed} > ${options.timeoutSeconds} and ${running}`,
          '1m',
          'warning',
          `${WHERE} has been running for over ${human(options.timeoutSeconds)}`,
          'The run may hang: look at the process (ps, strace), its locks and its I/O; promfile run --timeout ends such runs.',
          options,
        )
      : rule(
          'PromfileJobRunningTooLong',
          `${elapsed} > clamp_min(${factor} * histogram_quantile(0.5, ${JOB_METRICS.runDuration.name}_bucket{${job}}), ${floor}) and ${running}`,
          '1m',
          'warning',
          `${WHERE} has been running {{ $value | humanizeDuration }}, over ${factor}× its median run`,
          'The run may hang: look at the process (ps, strace), its locks and its I/O; promfile run --timeout ends such runs.',
          options,
        ),
    ...[...staleGroups(options)].map(([limit, files]) =>
      rule(
        'PromfileTextfileStale',
        `time() - node_textfile_mtime_seconds{file=~${quote(`(.*/)?(${alternatives(files)})`)}} > ${limit}`,
        '10m',
        'warning',
        `Textfile {{ $labels.file }} on {{ $labels.instance }} has not been written for over ${human(limit)}`,
        'Nothing updates the file: is the job still in the crontab? promfile ls shows every file with its age; promfile rm removes one no longer wanted.',
        options,
      ),
    ),
    rule(
      'PromfileTextfileScrapeError',
      'node_textfile_scrape_error != 0',
      '5m',
      'critical',
      'node_exporter on {{ $labels.instance }} cannot read a textfile',
      "Run promfile check in the textfile directory: it names the file and line node_exporter refuses (node_exporter's log says it too).",
      options,
    ),
  ];
  return rules;
}

/**
 * A YAML scalar holding exactly `text`: single-quoted when every character prints, else double-quoted
 * with escapes. YAML refuses DEL and C1 controls raw, and folds NEL and U+2028/2029 to a space in
 * quoted scalars, so a job with one in its name got no alert (or promtool refused the file).
 */
function yamlString(text: string): string {
  if (printable(text) === text && !/[\p{Noncharacter_Code_Point}]/u.test(text)) return `'${text.replace(/'/g, "''")}'`;
  const quoted = text
    .replace(/[\\"]/g, '\\$&')
    // YAML's \u takes no surrogate halves: characters above U+FFFF that need escaping get \U.
    .replace(/[\p{Cf}\p{Noncharacter_Code_Point}]/gu, (char) =>
      char.length > 1 || /\p{Noncharacter_Code_Point}/u.test(char)
        ? `\\U${(char.codePointAt(0) as number).toString(16).padStart(8, '0')}`
        : char,
    );
  return `"${printable(quoted)}"`;
}

function renderRule(rule: AlertRule, indent: string): string[] {
  const map = (key: string, values: Readonly<Record<string, string>>): string[] => [
    `${indent}  ${key}:`,
    ...Object.entries(values).map(([name, value]) => `${indent}    ${name}: ${yamlString(value)}`),
  ];
  return [
    `${indent}- alert: ${rule.alert}`,
    `${indent}  expr: ${yamlString(rule.expr)}`,
    `${indent}  for: ${rule.for}`,
    ...map('labels', rule.labels),
    ...map('annotations', rule.annotations),
  ];
}

export type RulesFormat = 'prometheus' | 'prometheus-operator';

/** The rules as a Prometheus rule file, or as a prometheus-operator PrometheusRule object. */
export function renderRules(rules: readonly AlertRule[], format: RulesFormat, name = 'promfile-jobs'): string {
  const indent = format === 'prometheus' ? '' : '  ';
  const groups = [
    `${indent}groups:`,
    `${indent}  - name: ${name}`,
    `${indent}    rules:`,
    ...rules.flatMap((rule) => renderRule(rule, `${indent}      `)),
  ];
  const head =
    format === 'prometheus'
      ? []
      : ['apiVersion: monitoring.coreos.com/v1', 'kind: PrometheusRule', 'metadata:', `  name: ${name}`, 'spec:'];
  return `${['# Generated by promfile rules.', ...head, ...groups].join('\n')}\n`;
}
