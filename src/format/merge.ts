// node_exporter's merge of the *.prom files of one directory, replayed on
// parsed families: files in name order, the first file to define a metric
// wins, and a later family with another HELP or TYPE, a repeated series or a
// suffix collision is dropped; a family named like node_exporter's own
// metrics is dropped too. `check` reports these; every write refuses them.
import { listed } from '../errors.js';
import { basename } from 'node:path';
import { ALL_VERSIONS, crashMessage, describeVersions, exportersOf, verb, versionsWhere, type Profile } from './profile.js';
import type { Labels, MetricFamily, MetricType, Rule, Severity } from './types.js';
import { describeSeries, seriesKey } from './validate.js';
import { familyShape, splitCompositeSuffix } from './shape.js';

/** A file's families as parsed, under the path node_exporter knows it by. */
export interface MergeFile {
  readonly path: string;
  readonly families: readonly MetricFamily[];
}

/** Something the merge drops or hides, in `file`, because of `other` (read first) where there is one. */
export interface MergeProblem {
  readonly file: string;
  readonly severity: Severity;
  readonly rule: Rule;
  readonly message: string;
  readonly family: string;
  /** The series concerned, when the problem is about one series. */
  readonly series?: { readonly name: string; readonly labels: Labels };
  /** The file whose family wins. */
  readonly other?: string;
}

/**
 * Metrics node_exporter always exports next to the textfile collector's
 * (so a textfile defining them hides one or the other).
 */
export const OWN_METRICS: ReadonlySet<string> = new Set([
  'node_textfile_mtime_seconds',
  'node_textfile_scrape_error',
  'node_scrape_collector_duration_seconds',
  'node_scrape_collector_success',
  'node_exporter_build_info',
]);

/** The help node_exporter invents for a family without HELP: one text for all files, so they merge. */
const SYNTHETIC_HELP = '\u0000synthetic';

interface Registered {
  readonly file: string;
  readonly help: string;
  readonly type: MetricType;
}

type Add = (problem: Omit<MergeProblem, 'file' | 'family' | 'severity'> & { severity?: Severity }) => void;

/** Everything node_exporter's merge of `files` (in this order) drops, by the rules of `profile`. */
export function mergeProblems(files: readonly MergeFile[], profile: Profile = ALL_VERSIONS): MergeProblem[] {
  const problems: MergeProblem[] = [];
  const filesByName = new Map<string, string[]>();
  for (const file of files)
    for (const family of file.families) filesByName.set(family.name, [...(filesByName.get(family.name) ?? []), file.path]);
  const registered = new Map<string, Registered>();
  const conflicted = new Set<string>();
  const seen = new Map<string, { file: string; metric: MetricIdentity }>();
  for (const file of files) {
    for (const family of file.families) {
      const add: Add = ({ severity = 'error', ...rest }) => void problems.push({ file: file.path, family: family.name, severity, ...rest });
      ownNameProblems(family, profile, add);
      const help = family.help ?? SYNTHETIC_HELP;
      const first = registered.get(family.name);
      if (first && first.file !== file.path) {
        if (!acrossFiles(family, help, first, conflicted, profile, filesByName, add)) continue;
      } else if (!first) {
        const collision = suffixCollision(family, registered, file.path);
        if (collision) {
          add({ rule: 'name-collision', ...collision });
          continue;
        }
        registered.set(family.name, { file: file.path, help, type: family.type });
      }
      // A series is a duplicate only of one in another file's family of the same name.
      if ((filesByName.get(family.name)?.length ?? 0) > 1) duplicateProblems(family, file.path, seen, add);
    }
  }
  return problems;
}

/** HELP and TYPE of a family against the file that defined it first; false when the family is dropped. */
function acrossFiles(
  family: MetricFamily,
  help: string,
  first: Registered,
  conflicted: Set<string>,
  profile: Profile,
  filesByName: ReadonlyMap<string, readonly string[]>,
  add: Add,
): boolean {
  const name = family.name;
  if (conflicted.has(name) && family.help === undefined) {
    const crash = crashMessage(
      (rules) => rules.helpConflictInCollector,
      `metric "${name}" has no HELP here, after a HELP conflict in an earlier file`,
    );
    if (crash) {
      add({ rule: 'crash', message: crash, other: first.file });
      return false;
    }
  }
  if (first.help !== help) {
    conflicted.add(name);
    add({ rule: 'help-conflict', message: helpConflictMessage(family, first, filesByName.get(name) ?? []), other: first.file });
    return false;
  }
  const dropping = conflicted.has(name) ? versionsWhere(profile, (rules) => rules.helpConflictInCollector) : [];
  if (dropping.length > 0) {
    const keeping = profile.versions.filter((version) => !dropping.includes(version));
    const others = keeping.length > 0 ? `; ${describeVersions(keeping)} ${verb(keeping, 'keeps')} it` : '';
    add({
      rule: 'help-conflict',
      message: `metric "${name}" had a HELP conflict in an earlier file: ${describeVersions(dropping)} ${verb(dropping, 'drops')} it from every later file, this one too${others}`,
      other: first.file,
    });
    return false;
  }
  if (first.type !== family.type) {
    add({
      rule: 'type-conflict',
      message: `metric "${name}" is ${article(family.type)} here but ${article(first.type)} in ${basename(first.file)} (read first): node_exporter drops all of "${name}" from this file ("should be a ${capitalize(first.type)}")`,
      other: first.file,
    });
    return false;
  }
  return true;
}

function helpConflictMessage(family: MetricFamily, first: Registered, paths: readonly string[]): string {
  // node_exporter's HELP names every file; a message names a few (a directory of 10,000 files made one line of 260 KB).
  const synthetic = `"Metric read from ${listed(paths)}"`;
  const describe = (help: string): string =>
    help === SYNTHETIC_HELP ? `no HELP (node_exporter makes it ${synthetic})` : `HELP ${JSON.stringify(help)}`;
  const mine = describe(family.help ?? SYNTHETIC_HELP);
  return `metric "${family.name}" has ${mine} here but ${describe(first.help)} in ${basename(first.file)} (read first, so it wins): node_exporter drops all of "${family.name}" from this file; give it the same HELP in every file`;
}

/** client_golang's checkSuffixCollisions against families registered by earlier files. */
function suffixCollision(
  family: MetricFamily,
  registered: Map<string, Registered>,
  file: string,
): { message: string; other: string } | undefined {
  const other = (name: string): Registered | undefined => {
    const entry = registered.get(name);
    return entry && entry.file !== file ? entry : undefined;
  };
  const split = splitCompositeSuffix(family.name);
  if (split) {
    const owner = other(split.base);
    if (owner && familyShape(owner.type)?.collisions.includes(split.suffix)) {
      return {
        message: `metric "${family.name}" collides with ${owner.type} "${split.base}" in ${basename(owner.file)} (read first): node_exporter drops "${family.name}" from this file`,
        other: owner.file,
      };
    }
  }
  for (const s of familyShape(family.type)?.collisions ?? []) {
    const owner = other(family.name + s);
    if (owner)
      return {
        message: `${family.type} "${family.name}" collides with metric "${family.name}${s}" in ${basename(owner.file)} (read first): node_exporter drops the ${family.type} from this file`,
        other: owner.file,
      };
  }
  return undefined;
}

/** Families named like node_exporter's own metrics: its registry keeps its own, the file's are dropped. */
function ownNameProblems(family: MetricFamily, profile: Profile, add: Add): void {
  const name = family.name;
  const exporters = exportersOf(profile, name);
  if (OWN_METRICS.has(name)) {
    add({
      rule: 'node-collision',
      message: `metric "${name}" is node_exporter's own: one of the two is dropped at every scrape; rename it`,
    });
  } else if (exporters.length > 0) {
    add({
      rule: 'node-collision',
      message: `metric "${name}" is one of the exporter metrics of ${describeVersions(exporters)}: it drops the file's "${name}" at every scrape; rename it (node_exporter's --web.disable-exporter-metrics frees the name)`,
    });
  } else if (name.startsWith('node_')) {
    add({
      rule: 'node-prefix',
      severity: 'warning',
      message: `metric "${name}" uses node_exporter's "node_" prefix: if a collector exports the same name, one of the two is dropped`,
    });
  } else if (profile.exporterMetrics && /^(?:go|process|promhttp)_/.test(name)) {
    add({
      rule: 'node-prefix',
      severity: 'warning',
      message: `metric "${name}" uses the prefix of node_exporter's own exporter metrics (go_, process_, promhttp_): a later node_exporter that exports the same name will drop it`,
    });
  }
}

/** One metric as the gather step counts it; the costly strings are made only for problems. */
interface MetricIdentity {
  /** seriesKey-based: an empty label is the same as a missing one. */
  readonly key: string;
  readonly name: string;
  readonly labels: Labels;
  readonly bound: string | undefined;
  /** The family's label names in this file: node_exporter pads missing ones with "". */
  readonly labelNames: readonly string[];
}

function duplicateProblems(
  family: MetricFamily,
  path: string,
  seen: Map<string, { file: string; metric: MetricIdentity }>,
  add: Add,
): void {
  for (const metric of metricsOf(family)) {
    const earlier = seen.get(metric.key);
    if (earlier === undefined) {
      seen.set(metric.key, { file: path, metric });
      continue;
    }
    if (earlier.file === path) continue;
    const series = metric.bound === undefined ? { series: { name: metric.name, labels: metric.labels } } : {};
    const where = `series ${describeMetric(metric)} is also in ${basename(earlier.file)} (read first)`;
    if (exactIdentity(earlier.metric) === exactIdentity(metric))
      add({
        rule: 'duplicate-series',
        message: `${where}: node_exporter drops it ("was collected before with the same name and label values")`,
        other: earlier.file,
        ...series,
      });
    else
      add({
        rule: 'empty-labels',
        severity: 'warning',
        message: `${where}, but for empty labels: node_exporter exposes both, and Prometheus, which treats an empty label as missing, stores one and drops the other as a duplicate sample`,
        other: earlier.file,
        ...series,
      });
  }
}

/** Identity as node_exporter hashes it: labels padded to the family's label set, empty ones kept. */
function exactIdentity(metric: MetricIdentity): string {
  return [metric.name, ...metric.labelNames.map((label) => `${label}=${metric.labels[label] ?? ''}`)].join('\u0000');
}

function describeMetric(metric: MetricIdentity): string {
  if (metric.bound === undefined || !(metric.bound in metric.labels)) return describeSeries(metric);
  const { [metric.bound]: _bound, ...labels } = metric.labels;
  return describeSeries({ name: metric.name, labels });
}

/** The metrics of a family: a histogram's or summary's samples make one metric per label set. */
function metricsOf(family: MetricFamily): MetricIdentity[] {
  const bound = family.type === 'histogram' ? 'le' : family.type === 'summary' ? 'quantile' : undefined;
  const labelNames = new Set<string>();
  for (const sample of family.samples) for (const label in sample.labels) if (label !== bound) labelNames.add(label);
  const sorted = [...labelNames].sort();
  const byKey = new Map<string, MetricIdentity>();
  for (const sample of family.samples) {
    const name = bound ? family.name : sample.name;
    const key = seriesKey(name, sample.labels, bound);
    if (!byKey.has(key)) byKey.set(key, { key, name, labels: sample.labels, bound, labelNames: sorted });
  }
  return [...byKey.values()];
}

function capitalize(type: string): string {
  return type === 'untyped' ? 'Untyped' : type[0]?.toUpperCase() + type.slice(1);
}

function article(type: string): string {
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
}
