/** The five metric types of the Prometheus text format 0.0.4. */
export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export const METRIC_TYPES: readonly MetricType[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];

/** Label name → value, in the order the labels were given. */
export type Labels = Readonly<Record<string, string>>;

/**
 * One exposition line. For histograms and summaries `name` carries the
 * `_bucket`/`_sum`/`_count` suffix and `labels` carries `le`/`quantile`,
 * exactly as in the text format.
 */
export interface Sample {
  readonly name: string;
  readonly labels: Labels;
  readonly value: number;
}

/** A metric family: one HELP, one TYPE and all samples of that name. */
export interface MetricFamily {
  readonly name: string;
  /** HELP text, unescaped; undefined when the family has no HELP line. */
  readonly help: string | undefined;
  readonly type: MetricType;
  readonly samples: readonly Sample[];
}

/** How bad a finding is for the reader (node_exporter). */
export type Severity = 'error' | 'warning' | 'notice';

/**
 * The stable ids of the rules exposition text (or a change to a textfile) can
 * break: they appear in `Problem.rule`, in check's findings and in messages
 * (`rule duplicate-series`), and scripts may match on them, so an id is never
 * renamed. Rules of node_exporter's merge across files are among them.
 */
export type Rule =
  | 'syntax'
  | 'bom'
  | 'value'
  | 'crash'
  | 'crlf'
  | 'empty'
  | 'empty-family'
  | 'empty-labels'
  | 'missing-final-newline'
  | 'too-large'
  | 'invalid-utf8'
  | 'utf-8'
  | 'nul-byte'
  | 'quoted-name'
  | 'help-escape'
  | 'metric-name'
  | 'label-name'
  | 'sample-name'
  | 'value-separator'
  | 'timestamp'
  | 'duplicate-family'
  | 'duplicate-series'
  | 'non-contiguous'
  | 'type-conflict'
  | 'help-conflict'
  | 'name-collision'
  | 'negative-counter'
  | 'histogram-shape'
  | 'summary-shape'
  | 'openmetrics'
  | 'node-prefix'
  | 'node-collision';

/**
 * A finding about exposition text or a model.
 * - error: node_exporter drops the file or some series (data is lost);
 * - warning: node_exporter accepts it, but promfile will not write it as is;
 * - notice: promfile normalizes it on output (nothing is lost).
 */
export interface Problem {
  readonly severity: Severity;
  /** Stable identifier of the rule broken, e.g. `duplicate-series`. */
  readonly rule: Rule;
  readonly message: string;
  /** 1-based line of the input, when the problem comes from text. */
  readonly line?: number;
  /** True when node_exporter rejects the whole file for it. */
  readonly wholeFile?: boolean;
}
