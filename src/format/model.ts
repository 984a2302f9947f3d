// Operations on the exposition model: merging families and updating series.
// `set`, `unset`, `inc`, `run` and the registry bridge all go through these.
import { InputError } from '../errors.js';
import { compareNames } from './names.js';
import type { Labels, MetricFamily, MetricType, Sample } from './types.js';
import { describeSeries, seriesKey } from './validate.js';
import { boundLabel, owningFamily } from './shape.js';

/** HELP used when none is given: node_exporter merges files best when every family has one. */
export const DEFAULT_HELP = 'Written by promfile.';

/** A family by its name and type only: all that the rules across families and files read of one no other file shares. */
export function familyStub(name: string, type: MetricType | undefined): MetricFamily {
  return { name, type: type ?? 'untyped', help: undefined, samples: [] };
}

/** Number of series (samples) in the families. */
export function countSeries(families: readonly MetricFamily[]): number {
  return families.reduce((sum, family) => sum + family.samples.length, 0);
}

export interface SeriesValue {
  readonly name: string;
  readonly labels: Labels;
  readonly value: number;
  /** Where the value came from (e.g. "argument 2"), for messages. */
  readonly source?: string;
}

export interface SetOptions {
  /** Type of new families, and the type existing ones must have. Default: counter for `_total`, else gauge. */
  readonly type?: MetricType;
  /** HELP for the families touched (replaces theirs). */
  readonly help?: string;
  /**
   * HELP for a new family when `help` is not given, e.g. the HELP the metric
   * already has in other files of the directory (so node_exporter merges them);
   * DEFAULT_HELP when it returns undefined.
   */
  readonly helpFor?: (name: string) => string | undefined;
}

/** "a gauge", "an untyped metric": for messages. */
function typeName(type: MetricType): string {
  return type === 'untyped' ? 'an untyped metric' : `a ${type}`;
}

/** The group a sample belongs to: its labels without `le`/`quantile`. */
function groupKey(family: MetricFamily, sample: Sample): string {
  return seriesKey('', sample.labels, boundLabel(family.type));
}

/**
 * Merge `incoming` into `base`: a series (histogram/summary: a whole label
 * group) in `incoming` replaces the same series in `base`; everything else in
 * `base` is kept. HELP comes from `incoming` when it has one. A family whose
 * type differs between the two is a conflict.
 */
export function mergeFamilies(base: readonly MetricFamily[], incoming: readonly MetricFamily[]): MetricFamily[] {
  const byName = new Map(base.map((family) => [family.name, family]));
  for (const update of incoming) {
    const current = byName.get(update.name);
    if (!current) {
      byName.set(update.name, update);
      continue;
    }
    if (current.type !== update.type) {
      throw new InputError('ERR_CONFLICT', `"${update.name}" is ${typeName(current.type)} in the file, not ${typeName(update.type)}`);
    }
    const replaced = new Set(update.samples.map((sample) => groupKey(update, sample)));
    const kept = current.samples.filter((sample) => !replaced.has(groupKey(current, sample)));
    byName.set(update.name, {
      name: update.name,
      help: update.help || current.help,
      type: current.type,
      samples: [...kept, ...update.samples],
    });
  }
  return [...byName.values()].sort((a, b) => compareNames(a.name, b.name));
}

/** Set series values (counter, gauge or untyped), keeping everything else. */
export function setSeries(families: readonly MetricFamily[], values: readonly SeriesValue[], options: SetOptions = {}): MetricFamily[] {
  const updates = new Map<string, { type: MetricType; help: string | undefined; samples: Sample[] }>();
  const byName = new Map(families.map((family) => [family.name, family]));
  for (const series of values) {
    const existing = byName.get(series.name);
    // The family the series would land in, as node_exporter reads the file.
    const owner = owningFamily(byName, series.name);
    if (owner && (owner.type === 'histogram' || owner.type === 'summary')) {
      throw new InputError(
        'ERR_CONFLICT',
        `"${series.name}" belongs to ${owner.type} "${owner.name}"; histograms and summaries are written whole, as exposition text`,
      );
    }
    if (options.type === 'histogram' || options.type === 'summary') {
      throw new InputError(
        'ERR_INVALID_ARGUMENT',
        `type ${options.type} cannot be set series by series; write it whole, as exposition text`,
      );
    }
    const type = existing?.type ?? options.type ?? (series.name.endsWith('_total') ? 'counter' : 'gauge');
    if (options.type !== undefined && options.type !== type) {
      throw new InputError('ERR_CONFLICT', `"${series.name}" is ${typeName(type)} in the file, not ${typeName(options.type)}`);
    }
    if (type === 'counter' && series.value < 0) {
      const where = series.source ? `${series.source}: ` : '';
      throw new InputError('ERR_INVALID_ARGUMENT', `${where}${describeSeries(series)}: a counter cannot be negative (${series.value})`);
    }
    let update = updates.get(series.name);
    if (!update) {
      const help = options.help ?? (existing ? undefined : (options.helpFor?.(series.name) ?? DEFAULT_HELP));
      updates.set(series.name, (update = { type, help, samples: [] }));
    }
    const key = seriesKey(series.name, series.labels);
    update.samples = update.samples.filter((sample) => seriesKey(sample.name, sample.labels) !== key);
    update.samples.push({ name: series.name, labels: series.labels, value: series.value });
  }
  const incoming = [...updates].map(([name, update]) => ({ name, ...update }));
  return mergeFamilies(families, incoming);
}

/** The current value of a series, if present. */
export function getSeries(families: readonly MetricFamily[], name: string, labels: Labels): Sample | undefined {
  const key = seriesKey(name, labels);
  return families.find((family) => family.name === name)?.samples.find((sample) => seriesKey(sample.name, sample.labels) === key);
}

/** Remove series (exact name and labels), dropping families left empty. Returns how many were removed. */
export function unsetSeries(
  families: readonly MetricFamily[],
  series: ReadonlyArray<{ name: string; labels: Labels }>,
): { families: MetricFamily[]; removed: number } {
  const keys = new Set(series.map((s) => seriesKey(s.name, s.labels)));
  let removed = 0;
  const result: MetricFamily[] = [];
  for (const family of families) {
    const samples = family.samples.filter((sample) => !keys.has(seriesKey(sample.name, sample.labels)));
    removed += family.samples.length - samples.length;
    if (samples.length > 0) result.push(samples.length === family.samples.length ? family : { ...family, samples });
  }
  return { families: result, removed };
}

/** Remove whole families by name. Returns how many were removed. */
export function removeFamilies(families: readonly MetricFamily[], names: readonly string[]): { families: MetricFamily[]; removed: number } {
  const wanted = new Set(names);
  const result = families.filter((family) => !wanted.has(family.name));
  return { families: result, removed: families.length - result.length };
}
