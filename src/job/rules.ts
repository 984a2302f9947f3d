// `promfile rules`: Prometheus alerting rules for the jobs `promfile run`
// records. Every threshold is a series of the job's own file (next run +
// grace, interval, --timeout, the duration histogram), compared series by
// series, so one rules file serves every host and every job, new ones
// included; only the defaults for jobs that record no threshold are baked in.
import { formatAge } from '../textfile/inventory.js';
import { JOB_METRICS } from './metrics.js';
import { printable } from '../errors.js';

export interface RuleOptions {
  /** Rules for these jobs only (per-job rules); default every job on every host. */
  readonly jobs?: readonly string[];
  /** Running too long, for runs without their own --timeout: longer than this (seconds); default factor × median. */
  readonly timeoutSeconds?: number;
  /** "Running too long" = this many times the median duration (default 3) ... */
  readonly slowFactor?: number;
  /** ... and at least this long (seconds, default 600). */
  readonly slowFloorSeconds?: number;
  /** Stale threshold (seconds) for jobs without a schedule; default two days. */
  readonly staleAfterSeconds?: number;
  /** The `for:` of every alert (seconds); default each alert's own. */
  readonly forSeconds?: number;
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

/** Seconds as a Prometheus duration ("90s", "1500ms"). */
function duration(seconds: number): string {
  return Number.isInteger(seconds) ? `${seconds}s` : `${Math.round(seconds * 1000)}ms`;
}

const WHERE = 'Job {{ $labels.job_name }} on {{ $labels.instance }}';

function rule(
  alert: string,
  expr: string,
  [wait, severity]: [string, string],
  summary: string,
  runbook: string,
  options: RuleOptions,
): AlertRule {
  return {
    alert,
    expr,
    for: options.forSeconds !== undefined ? duration(options.forSeconds) : wait,
    labels: { severity },
    annotations: {
      summary,
      runbook,
      ...(options.runbookUrl !== undefined ? { runbook_url: `${options.runbookUrl}#${alert.toLowerCase()}` } : {}),
    },
  };
}

/**
 * The alerting rules. Both sides of each comparison are series of one run
 * from one file, so they carry the same labels (job_name, the run's -l
 * labels, and the scrape's instance and job) and match one to one on all of
 * them: no `on()` list to keep in step with the labels a fleet uses. A
 * threshold a job does not record falls back (`or`) to a default given here.
 */
export function alertRules(options: RuleOptions = {}): AlertRule[] {
  const only = options.jobs && options.jobs.length > 0 ? `{job_name=~${quote(alternatives(options.jobs))}}` : '';
  const m = (metric: { name: string }, suffix = ''): string => `${metric.name}${suffix}${only}`;
  const factor = options.slowFactor ?? 3;
  const floor = options.slowFloorSeconds ?? 600;
  const staleAfter = options.staleAfterSeconds ?? 2 * 86400;
  const started = `(time() - ${m(JOB_METRICS.lastStart)})`;
  // A constant for every job, as a series of its own labels: the default where the job records no threshold.
  const each = (seconds: number): string => `${m(JOB_METRICS.lastStart)} * 0 + ${seconds}`;
  const slow =
    options.timeoutSeconds !== undefined
      ? each(options.timeoutSeconds)
      : `clamp_min(${factor} * histogram_quantile(0.5, ${m(JOB_METRICS.runDuration, '_bucket')}), ${floor})`;
  return [
    rule(
      'PromfileJobMissedRun',
      `time() - (${m(JOB_METRICS.nextRun)} + ${m(JOB_METRICS.grace)}) > 0`,
      ['1m', 'critical'],
      `${WHERE} did not start when due (next run + grace has passed)`,
      'The job did not start: check the crontab/timer and the cron log (journalctl -u cron), the host clock, and that promfile can write the textfile directory.',
      options,
    ),
    rule(
      'PromfileJobFailed',
      `${m(JOB_METRICS.exitCode)} != 0`,
      ['1m', 'warning'],
      `${WHERE} failed: exit status {{ $value }}`,
      "Read the job's output (cron mails it, or journalctl); exit status 124 is --timeout, 128+N signal N, 127 command not found. Resolves when a run succeeds.",
      options,
    ),
    rule(
      'PromfileJobRunningTooLong',
      `${started} > (${m(JOB_METRICS.timeout)} or ${slow}) and ${m(JOB_METRICS.running)} == 1`,
      ['1m', 'warning'],
      `${WHERE} has been running for {{ $value | humanizeDuration }}, past its --timeout (or, without one, ${options.timeoutSeconds !== undefined ? formatAge(options.timeoutSeconds * 1000) : `${factor}× its median run`})`,
      'The run may hang: look at the process (ps, strace), its locks and its I/O; past its --timeout, promfile run should have ended it (SIGTERM, then SIGKILL after --kill-after): was promfile itself killed, or is the process stuck in the kernel?',
      options,
    ),
    rule(
      'PromfileTextfileStale',
      `${started} > (${m(JOB_METRICS.staleAfter)} or 2 * ${m(JOB_METRICS.interval)} + ${m(JOB_METRICS.grace)} or ${each(staleAfter)})`,
      ['10m', 'warning'],
      `${WHERE} has not started for {{ $value | humanizeDuration }}: its textfile is stale`,
      'Nothing runs the job: is it still in the crontab or its timer enabled? promfile ls shows every file with its age; promfile rm removes the file of a retired job.',
      options,
    ),
    rule(
      'PromfileTextfileScrapeError',
      'node_textfile_scrape_error != 0',
      ['5m', 'critical'],
      'node_exporter on {{ $labels.instance }} cannot read a textfile',
      "Run promfile check in the textfile directory: it names the file and line node_exporter refuses (node_exporter's log says it too).",
      options,
    ),
  ];
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
