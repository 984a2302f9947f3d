// Rules on the model that node_exporter's parser does not enforce but its
// gather step, or the Prometheus data model, does. Shared by the text parser
// (which maps sample indices to lines) and by models built in code.
import { ExpositionError } from '../errors.js';
import { formatGoFloat, parseGoFloat } from './number.js';
import { compareNames } from './names.js';
import { isLabelName, isMetricName } from './lex.js';
import { crashMessage } from './profile.js';
import type { Labels, MetricFamily, Problem, Rule, Sample, Severity } from './types.js';
import {
  addedMembers,
  boundLabel,
  familyShape,
  isBoundLabel,
  memberSuffix,
  type AddedMember,
  type FamilyShape,
  type GivenSeries,
} from './shape.js';

/** A problem found in a family, pointing at a sample by index where it can. */
export interface FamilyProblem extends Problem {
  readonly sample?: number;
}

/**
 * Identity of a series as node_exporter's gather step sees it: the name and
 * the labels, an empty value being the same as an absent label.
 */
export function seriesKey(name: string, labels: Labels, skip?: string): string {
  const names = keyLabelNames(labels, skip);
  if (names.length === 0) return name;
  let key = name;
  for (const label of names) key += `\u0000${label}\u0001${keyValue(labels, label)}`;
  return key;
}

/** The labels of one series, by index, as identityOrder looks at them. */
export interface LabelView {
  /** Label i has an empty value (or is left out of the identity). */
  isEmpty(i: number): boolean;
  /** Name order of labels a and b. */
  compare(a: number, b: number): number;
}

/**
 * The one home of a series' identity, for label objects (seriesKey) and for
 * label spans on bytes (the streaming path's series table): the labels that
 * count are those with a value (an empty label is no label), in name order
 * (the order they were written in does not matter). Writes the indexes of
 * those of the `count` labels of `view` into `order` and returns how many.
 */
export function identityOrder(count: number, view: LabelView, order: Int32Array | number[]): number {
  let length = 0;
  for (let i = 0; i < count; i++) {
    if (view.isEmpty(i)) continue;
    // Insertion: labels usually come in order already, and a series has few.
    let j = length - 1;
    while (j >= 0 && view.compare(order[j] as number, i) > 0) {
      order[j + 1] = order[j] as number;
      j--;
    }
    order[j + 1] = i;
    length++;
  }
  return length;
}

/** A label object as identityOrder looks at it, `skip` left out. */
class ObjectLabels implements LabelView {
  readonly names: string[];
  constructor(
    private readonly labels: Labels,
    private readonly skip: string | undefined,
  ) {
    this.names = Object.keys(labels);
  }
  isEmpty(i: number): boolean {
    const name = this.names[i] as string;
    return name === this.skip || this.labels[name] === '';
  }
  compare(a: number, b: number): number {
    return (this.names[a] as string) < (this.names[b] as string) ? -1 : 1;
  }
}

/** The labels that make a series' identity (identityOrder), by name: those with a value, but `skip`. */
function keyLabelNames(labels: Labels, skip?: string): string[] {
  const view = new ObjectLabels(labels, skip);
  const order: number[] = [];
  const length = identityOrder(view.names.length, view, order);
  const names: string[] = new Array<string>(length);
  for (let i = 0; i < length; i++) names[i] = view.names[order[i] as number] as string;
  return names;
}

function keyValue(labels: Labels, label: string): string {
  const value = labels[label] as string;
  // 1 and 1.0 are one bucket bound.
  return isBoundLabel(label) ? normalizeBound(value) : value;
}

/**
 * A 32-bit hash of exactly what seriesKey joins: equal keys, equal hashes.
 * Finding duplicates by hash first spares building and hashing a million key
 * strings (V8 must flatten each concatenated key to hash it).
 */
function seriesHash(name: string, labels: Labels): number {
  let hash = mixString(0x811c9dc5, name);
  for (const label of keyLabelNames(labels)) hash = mixString(mixString(Math.imul(hash ^ 1, 16777619), label), keyValue(labels, label));
  return hash;
}

/** FNV-1a over UTF-16 code units. */
function mixString(hash: number, text: string): number {
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 16777619);
  return hash;
}

function normalizeBound(value: string): string {
  const bound = parseGoFloat(value);
  return bound === undefined ? value : formatGoFloat(bound);
}

/** Why a label name is refused, or undefined when it is fine. */
export function labelNameProblem(name: string): string | undefined {
  if (!isLabelName(name)) return `invalid label name "${name}" (must match [a-zA-Z_][a-zA-Z0-9_]*)`;
  if (name.startsWith('__'))
    return (
      crashMessage(() => true, `label name "${name}" is reserved (names starting with "__" are for Prometheus' internal use)`) ??
      `label name "${name}" is reserved`
    );
  return undefined;
}

/** Why a metric name is refused, or undefined when it is fine. */
export function metricNameProblem(name: string): string | undefined {
  if (!isMetricName(name)) return `invalid metric name "${name}" (must match [a-zA-Z_:][a-zA-Z0-9_:]*)`;
  return undefined;
}

function problem(severity: Severity, rule: Rule, message: string, sample?: number): FamilyProblem {
  return sample === undefined ? { severity, rule, message } : { severity, rule, message, sample };
}

/** Check one family; problems point at samples by index. */
export function validateFamily(family: MetricFamily): FamilyProblem[] {
  const problems: FamilyProblem[] = [];
  // A name only matters with samples: node_exporter ignores a HELP/TYPE for "my.metric" alone.
  const nameProblem = family.samples.length > 0 ? metricNameProblem(family.name) : undefined;
  if (nameProblem) problems.push(problem('error', 'metric-name', nameProblem));
  if (family.help !== undefined && family.help.includes('\u0000')) {
    problems.push(problem('warning', 'nul-byte', `HELP text of "${family.name}" contains a NUL byte`));
  }
  if (family.samples.length === 0) {
    problems.push(problem('notice', 'empty-family', `"${family.name}" has HELP/TYPE but no samples; node_exporter ignores it`));
  }
  // Series seen so far by hash; a hash hit is confirmed (or not) with seriesKey.
  const seen = new Map<number, number | number[]>();
  const goodLabelNames = new Set<string>();
  const { samples } = family;
  for (let index = 0; index < samples.length; index++) {
    const sample = samples[index] as Sample;
    checkSample(family, sample, index, problems, goodLabelNames);
    const hash = seriesHash(sample.name, sample.labels);
    const found = seen.get(hash);
    if (found === undefined) {
      seen.set(hash, index);
      continue;
    }
    const sameHash = typeof found === 'number' ? [found] : found;
    const key = seriesKey(sample.name, sample.labels);
    const isDuplicate = sameHash.some((other) => seriesKey((samples[other] as Sample).name, (samples[other] as Sample).labels) === key);
    if (!isDuplicate) seen.set(hash, [...sameHash, index]);
    else problems.push(problem('error', 'duplicate-series', duplicateMessage(family, sample), index));
  }
  if (family.type === 'histogram' || family.type === 'summary') checkShape(family, problems);
  return problems;
}

function duplicateMessage(family: MetricFamily, sample: Sample): string {
  const bound = boundLabel(family.type);
  // Buckets and quantiles are kept by bound: a later one replaces an earlier one, silently.
  if (
    bound !== undefined &&
    bound in sample.labels &&
    memberSuffix(family.type, family.name, sample.name) === familyShape(family.type)?.pointSuffix
  )
    return `duplicate series ${describeSeries(sample)}: node_exporter keeps only the last ${bound === 'le' ? 'bucket' : 'quantile'} of that bound, silently`;
  return `duplicate series ${describeSeries(sample)}: node_exporter drops it ("was collected before with the same name and label values")`;
}

// A string that is not well-formed UTF-16 has no UTF-8 encoding. (String.prototype.isWellFormed
// says the same, but is Node 20+: the floor is Node 18.19.)
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * node_exporter's checks of a series grow with the square of its labels: one
 * series of 5,000 labels took 2.9 s a scrape (10,000-15,000: 7.6-16.6 s, past
 * Prometheus' 10 s scrape timeout, so the whole host went down). Far above
 * any real use, far below that.
 */
export const MAX_LABELS_PER_SERIES = 128;
/** The labels of one series (names and values), in UTF-16 units: a bound on its line, far above real use. */
export const MAX_SERIES_LABEL_CHARS = 64 * 1024;

/** Why a series would make node_exporter's scrape slow, if it would. */
function slowSeriesProblem(sample: Sample): string | undefined {
  const names = Object.keys(sample.labels);
  if (names.length > MAX_LABELS_PER_SERIES)
    return `a series of "${sample.name}" has ${names.length} labels; node_exporter's scrape time grows with the square of a series' labels (5,000 took 2.9 s a scrape), so promfile takes at most ${MAX_LABELS_PER_SERIES}`;
  let chars = 0;
  for (const name of names) chars += name.length + (sample.labels[name] as string).length;
  if (chars > MAX_SERIES_LABEL_CHARS)
    return `a series of "${sample.name}" has ${chars} characters of labels; promfile takes at most ${MAX_SERIES_LABEL_CHARS} (64 KiB) in one series, so that a line stays quick to scrape`;
  return undefined;
}

/** Label names (each name once per family) and values: NUL bytes, lone surrogates. */
function checkSampleLabels(sample: Sample, index: number, problems: FamilyProblem[], goodLabelNames: Set<string>): void {
  const { labels } = sample;
  const slow = slowSeriesProblem(sample);
  if (slow) problems.push(problem('error', 'too-large', slow, index));
  for (const label of Object.keys(labels)) {
    const value = labels[label] as string;
    if (!goodLabelNames.has(label)) {
      const labelProblem = labelNameProblem(label);
      if (labelProblem) problems.push(problem('error', 'label-name', labelProblem, index));
      else goodLabelNames.add(label);
    }
    if (value.includes('\u0000'))
      problems.push(problem('warning', 'nul-byte', `label ${label} of ${describeSeries(sample)} contains a NUL byte`, index));
    if (LONE_SURROGATE.test(value))
      problems.push(problem('error', 'invalid-utf8', `label ${label} of ${describeSeries(sample)} is not valid UTF-8`, index));
  }
}

/** `goodLabelNames`: label names of this family already found valid (checked once, not per sample). */
function checkSample(family: MetricFamily, sample: Sample, index: number, problems: FamilyProblem[], goodLabelNames: Set<string>): void {
  checkSampleLabels(sample, index, problems, goodLabelNames);
  const { type } = family;
  if (type === 'counter' || type === 'gauge' || type === 'untyped') {
    if (sample.name !== family.name) {
      problems.push(problem('error', 'sample-name', `sample "${sample.name}" does not belong to ${type} "${family.name}"`, index));
    }
    if (type === 'counter' && sample.value < 0) {
      problems.push(
        problem(
          'warning',
          'negative-counter',
          `counter ${describeSeries(sample)} has negative value ${formatGoFloat(sample.value)}`,
          index,
        ),
      );
    }
    return;
  }
  const shape = familyShape(type) as FamilyShape;
  const suffix = memberSuffix(type, family.name, sample.name);
  if (suffix === undefined) {
    const allowed = shape.suffixes.map((s) => `${family.name}${s}`).join(', ');
    problems.push(
      problem('error', 'sample-name', `sample "${sample.name}" does not belong to ${type} "${family.name}" (expected ${allowed})`, index),
    );
    return;
  }
  const bound = shape.bound;
  const isPoint = suffix === shape.pointSuffix;
  const boundText = sample.labels[bound];
  if (isPoint) checkBound(type, sample, index, bound, problems);
  else if (boundText !== undefined) {
    problems.push(
      problem('error', `${type}-shape`, `${describeSeries(sample)} carries a "${bound}" label: node_exporter removes the label`, index),
    );
  }
  const isCount = shape.countSuffixes.includes(suffix);
  if (isCount) checkCount(type, sample, index, problems);
}

/** The `le` of a bucket, the `quantile` of a quantile: a float node_exporter keeps. */
function checkBound(type: 'histogram' | 'summary', sample: Sample, index: number, bound: string, problems: FamilyProblem[]): void {
  const text = sample.labels[bound];
  const value = text === undefined ? undefined : parseGoFloat(text);
  if (text === undefined) problems.push(problem('error', `${type}-shape`, `${describeSeries(sample)} lacks its "${bound}" label`, index));
  else if (value === undefined)
    problems.push(problem('error', `${type}-shape`, `label ${bound}="${text}" of ${describeSeries(sample)} is not a float`, index));
  else if (Number.isNaN(value)) {
    const what =
      type === 'histogram'
        ? `bucket le="NaN" of ${describeSeries(sample)}: node_exporter drops the bucket`
        : `quantile "NaN" of ${describeSeries(sample)}: node_exporter drops the sample`;
    problems.push(problem('error', `${type}-shape`, what, index));
  } else if (type === 'summary' && !(value >= 0 && value <= 1))
    problems.push(problem('warning', 'summary-shape', `quantile "${text}" of ${describeSeries(sample)} is outside [0, 1]`, index));
}

/** node_exporter stores counts as unsigned 64-bit integers: 2^64. */
const UINT64_LIMIT = 2 ** 64;

/** A histogram bucket or a _count: node_exporter keeps it as an unsigned 64-bit integer. */
function checkCount(type: 'histogram' | 'summary', sample: Sample, index: number, problems: FamilyProblem[]): void {
  const { value } = sample;
  if (!(value >= 0)) {
    problems.push(problem('error', `${type}-shape`, `${describeSeries(sample)} is a count and must not be negative or NaN`, index));
  } else if (!Number.isInteger(value) || value >= UINT64_LIMIT) {
    // Go's float-to-uint64 conversion: truncation below 2^64, 2^63 from there on (amd64). 1.11
    // reads such a histogram as one of float counts and exposes its counts as 0; seen on the
    // binaries (test/e2e/histogram-fidelity.test.ts).
    const exposed = value >= UINT64_LIMIT ? '9223372036854775808' : formatGoFloat(Math.trunc(value));
    const versions =
      type === 'histogram'
        ? `node_exporter 1.5 and 1.9 expose it as ${exposed}, 1.11 every bucket and the count of the series as 0`
        : `node_exporter 1.5, 1.9 and 1.11 expose it as ${exposed}`;
    problems.push(
      problem(
        'error',
        `${type}-shape`,
        `${describeSeries(sample)} is a count (a whole number below 2^64), but ${formatGoFloat(value)}: ${versions}`,
        index,
      ),
    );
  }
}

interface Group {
  first: number;
  /** The labels of its first sample, empty ones included and the bound left out, as node_exporter's parser groups them. */
  exact: string;
  points: Array<{ bound: number; value: number; index: number }>;
  sum?: number;
  count?: { value: number; index: number };
}

/** Histogram: +Inf bucket, cumulative buckets, _sum and _count; summary: _sum and _count. */
function checkShape(family: MetricFamily, problems: FamilyProblem[]): void {
  const type = family.type as 'histogram' | 'summary';
  const bound = boundLabel(type) as string;
  const groups = groupSeries(family, bound, problems);
  for (const group of groups.values()) {
    const where = `${type} ${describeSeries({ name: family.name, labels: stripLabel(family.samples[group.first]?.labels ?? {}, bound) })}`;
    const buckets = [...group.points].sort((a, b) => a.bound - b.bound);
    const inf = buckets.at(-1)?.bound === Infinity ? buckets.at(-1) : undefined;
    const given = { inf: inf?.value, sum: group.sum, count: group.count?.value };
    addedProblems(family, where, given, group.first, problems);
    if (type === 'histogram') checkBuckets(family, where, group, buckets, problems);
  }
}

/**
 * What node_exporter adds to a series: one warning for the members the series
 * implies (promfile writes them), an error for each it makes up.
 */
function addedProblems(family: MetricFamily, where: string, given: GivenSeries, first: number, problems: FamilyProblem[]): void {
  const rule: Rule = family.type === 'histogram' ? 'histogram-shape' : 'summary-shape';
  const implied: string[] = [];
  for (const member of addedMembers(family.type as 'histogram' | 'summary', given)) {
    if (member.implied) implied.push(impliedMember(family.name, member));
    else {
      const message = madeUpMember(family, where, member, given);
      if (message !== undefined) problems.push(problem('error', rule, message, first));
    }
  }
  if (implied.length > 0) {
    const them = implied.length > 1 ? 'them' : 'it';
    problems.push(
      problem('warning', rule, `${where} is incomplete: node_exporter adds ${implied.join(' and ')}; promfile writes ${them} so`, first),
    );
  }
}

function impliedMember(name: string, member: AddedMember): string {
  if (member.suffix === '_bucket') return `the le="+Inf" bucket equal to ${name}_count (${formatGoFloat(member.value)})`;
  return member.suffix === '_count' ? `${name}_count 0 (its le="+Inf" bucket is 0)` : `${name}_sum 0 (its count is 0)`;
}

function madeUpMember(family: MetricFamily, where: string, member: AddedMember, given: GivenSeries): string | undefined {
  const name = `${family.name}${member.suffix}`;
  // A +Inf bucket made up from a made-up _count: the _count's error says it.
  if (member.suffix === '_bucket') return undefined;
  if (member.suffix === '_count') {
    if (given.inf !== undefined)
      return `${where} lacks ${name}: node_exporter exposes ${name} 0 beside its le="+Inf" bucket of ${formatGoFloat(given.inf)}; write ${name} ${formatGoFloat(given.inf)}`;
    const inf = family.type === 'histogram' ? ' and a le="+Inf" bucket of 0' : '';
    return `${where} lacks ${name}: node_exporter exposes ${name} 0${inf}, a count this series does not give; write ${name}`;
  }
  const count =
    given.count === undefined ? ', a sum this series does not give' : `, though ${family.name}_count is ${formatGoFloat(given.count)}`;
  return `${where} lacks ${name}: node_exporter exposes ${name} 0${count}; write ${name}`;
}

/** The +Inf bucket against _count, and cumulative buckets. */
function checkBuckets(family: MetricFamily, where: string, group: Group, buckets: Group['points'], problems: FamilyProblem[]): void {
  const inf = buckets.at(-1);
  if (inf?.bound === Infinity && group.count !== undefined && inf.value !== group.count.value) {
    problems.push(
      problem(
        'warning',
        'histogram-shape',
        `${where}: the le="+Inf" bucket (${formatGoFloat(inf.value)}) differs from ${family.name}_count (${formatGoFloat(group.count.value)})`,
        group.count.index,
      ),
    );
  }
  for (let i = 1; i < buckets.length; i++) {
    const [lower, upper] = [buckets[i - 1], buckets[i]];
    if (lower && upper && upper.value < lower.value) {
      problems.push(
        problem(
          'warning',
          'histogram-shape',
          `${where}: buckets are cumulative, but le="${formatGoFloat(upper.bound)}" (${formatGoFloat(upper.value)}) is below le="${formatGoFloat(lower.bound)}" (${formatGoFloat(lower.value)})`,
          upper.index,
        ),
      );
      break;
    }
  }
}

/** The family's series by seriesKey; a series whose samples node_exporter's parser splits in two is an error. */
function groupSeries(family: MetricFamily, bound: string, problems: FamilyProblem[]): Map<string, Group> {
  const groups = new Map<string, Group>();
  family.samples.forEach((sample, index) => {
    const key = seriesKey('', sample.labels, bound);
    const exact = exactLabels(sample.labels, bound);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { first: index, exact, points: [] }));
    else if (group.exact !== exact) {
      problems.push(problem('error', 'duplicate-series', splitMessage(family, family.samples[group.first] as Sample, sample), index));
      group.exact = exact; // one error for each change of spelling
    }
    const suffix = sample.name.slice(family.name.length);
    if (suffix === '_sum') group.sum = sample.value;
    else if (suffix === '_count') group.count = { value: sample.value, index };
    else {
      const value = parseGoFloat(sample.labels[bound] ?? '');
      // A NaN bound is an error of its own (node_exporter drops that bucket).
      if (value !== undefined && !Number.isNaN(value)) group.points.push({ bound: value, value: sample.value, index });
    }
  });
  return groups;
}

/**
 * node_exporter's parser tells a histogram's or summary's series apart by
 * their labels with empty values kept; seriesKey drops those. Within one
 * seriesKey the two differ only in which labels are present and empty: their
 * names, sorted ('' for none, the usual case).
 */
function exactLabels(labels: Labels, bound: string): string {
  let empty: string[] | undefined;
  for (const name in labels) if (labels[name] === '' && name !== bound) (empty ??= []).push(name);
  return empty === undefined ? '' : empty.sort().join('\u0000');
}

function splitMessage(family: MetricFamily, first: Sample, sample: Sample): string {
  return (
    `${describeSeries(sample)} and ${describeSeries(first)} are one series of ${family.type} "${family.name}" to Prometheus (an empty label is no label), ` +
    `but node_exporter reads them as two, pads both with the empty label and drops the second ("was collected before with the same name and label values"); spell their labels alike`
  );
}

/** `labels` without `name`. */
export function stripLabel(labels: Labels, name: string): Labels {
  if (!(name in labels)) return labels;
  const { [name]: _removed, ...rest } = labels;
  return rest;
}

/** Cross-family rules of one file: duplicate families and suffix collisions. */
export function validateFamilies(families: readonly MetricFamily[]): Problem[] {
  const problems: Problem[] = [];
  const byName = new Map<string, MetricFamily>();
  for (const family of families) {
    if (byName.has(family.name))
      problems.push({ severity: 'error', rule: 'duplicate-family', message: `metric "${family.name}" is defined twice` });
    byName.set(family.name, family);
  }
  for (const family of families) {
    for (const suffix of familyShape(family.type)?.collisions ?? []) {
      if (byName.has(family.name + suffix)) {
        problems.push({
          severity: 'error',
          rule: 'name-collision',
          message: `metric "${family.name}${suffix}" collides with ${family.type} "${family.name}"; node_exporter drops it`,
        });
      }
    }
  }
  return problems;
}

/** `name{a="b"}` for messages. */
export function describeSeries(sample: { name: string; labels: Labels }): string {
  const labels = Object.entries(sample.labels);
  if (labels.length === 0) return sample.name;
  return `${sample.name}{${labels.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
}

/**
 * Refuse a model node_exporter would not take whole (an error); return its
 * warnings (exposed as given, worth saying). `others` are the file's other
 * families, already checked one by one.
 */
export function assertWritable(families: readonly MetricFamily[], source?: string, others: readonly MetricFamily[] = []): Problem[] {
  // `others` passed every rule of one family already (their bytes were checked): only the rules across families see them.
  const all = others.length === 0 ? families : [...families, ...others].sort((a, b) => compareNames(a.name, b.name));
  const problems: Problem[] = [...families.flatMap((family) => validateFamily(family)), ...validateFamilies(all)];
  const blocking = problems.find((problem) => problem.severity === 'error' || problem.rule === 'empty-family');
  if (blocking) {
    const { severity, rule, message } = blocking;
    throw new ExpositionError({ severity, rule, message }, source);
  }
  return problems.filter((problem) => problem.severity === 'warning').map(({ severity, rule, message }) => ({ severity, rule, message }));
}
