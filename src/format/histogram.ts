// One observation added to a histogram kept in a textfile: `promfile
// observe`, and run's duration histogram. The counts carry over from the
// file; a series whose bucket layout differs from the one asked for starts
// again from zero (Prometheus' rate() and increase() read that as a reset).
import { InputError } from '../errors.js';
import { mergeFamilies, DEFAULT_HELP } from './model.js';
import { formatGoFloat, parseGoFloat } from './number.js';
import type { Labels, MetricFamily, Sample } from './types.js';
import { seriesKey } from './validate.js';

/** client_golang's default buckets (seconds of a request): for `observe` without --buckets. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface Observation {
  readonly name: string;
  /** The series' labels, without `le`. */
  readonly labels: Labels;
  readonly value: number;
  /** Upper bounds (finite, increasing; +Inf is added). Default: the series' own layout, else DEFAULT_BUCKETS. */
  readonly buckets?: readonly number[];
  /** HELP of a new family (or the new HELP of an existing one). */
  readonly help?: string;
}

export interface ObserveResult {
  readonly families: MetricFamily[];
  /** True when the series existed with another bucket layout and was started again. */
  readonly reset: boolean;
}

/** Parse `0.1,1,10` into increasing finite bounds (+Inf may be given and is dropped). */
export function parseBuckets(text: string, what: string): number[] {
  const bounds = text.split(',').map((part) => parseGoFloat(part.trim()));
  if (bounds.at(-1) === Infinity) bounds.pop();
  const valid =
    bounds.length > 0 && bounds.every((b, i) => b !== undefined && Number.isFinite(b) && (i === 0 || b > (bounds[i - 1] as number)));
  if (!valid)
    throw new InputError('ERR_INVALID_ARGUMENT', `${what} "${text}": expected increasing numbers separated by commas, e.g. 1,5,30`);
  return bounds as number[];
}

/** The finite bucket bounds and counts of one histogram series in `family`, if it has it. */
function currentSeries(family: MetricFamily | undefined, labels: Labels): { bounds: number[]; samples: Sample[] } | undefined {
  if (!family) return undefined;
  const key = seriesKey('', labels);
  const samples = family.samples.filter((sample) => seriesKey('', sample.labels, 'le') === key);
  if (samples.length === 0) return undefined;
  const bounds = samples
    .filter((sample) => sample.name.endsWith('_bucket'))
    .map((sample) => parseGoFloat(sample.labels['le'] ?? '') as number)
    .filter((bound) => Number.isFinite(bound))
    .sort((a, b) => a - b);
  return { bounds, samples };
}

function valueOf(samples: readonly Sample[], name: string, le?: number): number {
  const found = samples.find((s) => s.name === name && (le === undefined || parseGoFloat(s.labels['le'] ?? '') === le));
  return found?.value ?? 0;
}

/** Add one observation to a histogram series, creating the family or the series as needed. */
export function observeHistogram(families: readonly MetricFamily[], observation: Observation): ObserveResult {
  const { name, labels, value } = observation;
  if (!Number.isFinite(value)) throw new InputError('ERR_INVALID_ARGUMENT', `value ${value}: an observation must be a finite number`);
  if ('le' in labels) throw new InputError('ERR_INVALID_ARGUMENT', `"${name}": the "le" label is the bucket bound; do not give it`);
  const family = families.find((f) => f.name === name);
  if (family && family.type !== 'histogram')
    throw new InputError('ERR_CONFLICT', `"${name}" is a ${family.type} in the file, not a histogram (use --replace to rewrite the file)`);
  const current = currentSeries(family, labels);
  const bounds = observation.buckets ?? (current && current.bounds.length > 0 ? current.bounds : DEFAULT_BUCKETS);
  const same = current !== undefined && current.bounds.length === bounds.length && current.bounds.every((b, i) => b === bounds[i]);
  const old = same ? current.samples : [];
  const bucket = (le: number): Sample => ({
    name: `${name}_bucket`,
    labels: { ...labels, le: formatGoFloat(le) },
    value: valueOf(old, `${name}_bucket`, le) + (value <= le ? 1 : 0),
  });
  const samples: Sample[] = [
    ...[...bounds, Infinity].map(bucket),
    { name: `${name}_sum`, labels, value: valueOf(old, `${name}_sum`) + value },
    { name: `${name}_count`, labels, value: valueOf(old, `${name}_count`) + 1 },
  ];
  const help = observation.help ?? (family ? undefined : DEFAULT_HELP);
  return {
    families: mergeFamilies(families, [{ name, help, type: 'histogram', samples }]),
    reset: current !== undefined && !same,
  };
}
