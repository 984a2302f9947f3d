// One home for the shape of histogram and summary families: which suffixed
// sample names belong to a family, which label carries the bound, which
// values are counts, and which other names collide with it. Parser,
// validator, renderer, model and check all ask here.
import type { MetricType } from './types.js';

export interface FamilyShape {
  /** Sample-name suffixes that belong to the family; '' is the family's own name. */
  readonly suffixes: readonly string[];
  /** The suffix of the samples that carry the bound label (buckets, quantiles). */
  readonly pointSuffix: string;
  /** The label that carries the bound. */
  readonly bound: 'le' | 'quantile';
  /** Suffixes whose values are counts: whole and never negative. */
  readonly countSuffixes: readonly string[];
  /**
   * Suffixed names another family may not have beside this one: client_golang's
   * checkSuffixCollisions objects to `_bucket` only beside a histogram.
   */
  readonly collisions: readonly string[];
}

const HISTOGRAM: FamilyShape = {
  suffixes: ['_bucket', '_sum', '_count'],
  pointSuffix: '_bucket',
  bound: 'le',
  countSuffixes: ['_bucket', '_count'],
  collisions: ['_bucket', '_sum', '_count'],
};

const SUMMARY: FamilyShape = {
  suffixes: ['', '_sum', '_count'],
  pointSuffix: '',
  bound: 'quantile',
  countSuffixes: ['_count'],
  collisions: ['_sum', '_count'],
};

/** The shape of a histogram or summary; undefined for the single-sample types. */
export function familyShape(type: MetricType): FamilyShape | undefined {
  return type === 'histogram' ? HISTOGRAM : type === 'summary' ? SUMMARY : undefined;
}

/** The bound label of a family's type (`le`, `quantile`), if it has one. */
export function boundLabel(type: MetricType): 'le' | 'quantile' | undefined {
  return familyShape(type)?.bound;
}

/** Bound labels compare as floats: `le="1"` and `le="1.0"` are one bucket. */
export function isBoundLabel(label: string): boolean {
  return label === HISTOGRAM.bound || label === SUMMARY.bound;
}

/**
 * The suffix by which `name` belongs to a histogram or summary `family`
 * ('' for the family's own name), or undefined when it does not belong.
 */
export function memberSuffix(type: MetricType, family: string, name: string): string | undefined {
  const shape = familyShape(type);
  if (shape === undefined || !name.startsWith(family)) return undefined;
  const suffix = name.slice(family.length);
  return shape.suffixes.includes(suffix) ? suffix : undefined;
}

/** `name` without the first of `type`'s suffixes it ends in (node_exporter's parser finding a sample's family). */
export function stripMemberSuffix(type: 'histogram' | 'summary', name: string): string {
  for (const suffix of (familyShape(type) as FamilyShape).suffixes) {
    if (suffix !== '' && name.length > suffix.length && name.endsWith(suffix)) return name.slice(0, -suffix.length);
  }
  return name;
}

/**
 * The family a line naming `name` belongs to, as node_exporter's parser
 * assigns it: the family of that name, else the summary, else the histogram
 * whose series it is (`x_sum` of summary `x`); undefined for a new family.
 */
export function owningFamily<F extends { readonly type: MetricType | undefined }>(
  families: ReadonlyMap<string, F>,
  name: string,
): F | undefined {
  const exact = families.get(name);
  if (exact !== undefined) return exact;
  const summary = families.get(stripMemberSuffix('summary', name));
  if (summary?.type === 'summary') return summary;
  const histogram = families.get(stripMemberSuffix('histogram', name));
  return histogram?.type === 'histogram' ? histogram : undefined;
}

/** A name ending in a histogram's suffix: the base name and that suffix. */
export function splitCompositeSuffix(name: string): { base: string; suffix: string } | undefined {
  const suffix = HISTOGRAM.suffixes.find((s) => name.length > s.length && name.endsWith(s));
  return suffix === undefined ? undefined : { base: name.slice(0, -suffix.length), suffix };
}

/** One histogram or summary series as given: its `le="+Inf"` bucket (histograms), `_sum` and `_count`, where present. */
export interface GivenSeries {
  readonly inf: number | undefined;
  readonly sum: number | undefined;
  readonly count: number | undefined;
}

/** A member node_exporter adds to a series that lacks it. */
export interface AddedMember {
  readonly suffix: '_bucket' | '_sum' | '_count';
  /** What node_exporter exposes for it. */
  readonly value: number;
  /**
   * True when the series itself says the value: the `+Inf` bucket is `_count`,
   * `_count` is 0 beside a `+Inf` bucket of 0, `_sum` is 0 when the count is.
   * Then promfile writes the member (the file equals what is exposed); else
   * node_exporter makes up a 0 and promfile refuses the series.
   */
  readonly implied: boolean;
}

/**
 * What node_exporter adds to an incomplete series (1.5 and 1.9 alike): its
 * parser leaves a missing `_sum` or `_count` at 0, and client_golang exposes a
 * histogram without `le="+Inf"` with that bucket equal to `_count`.
 */
export function addedMembers(type: 'histogram' | 'summary', given: GivenSeries): AddedMember[] {
  const histogram = type === 'histogram';
  const added: AddedMember[] = [];
  if (given.count === undefined) added.push({ suffix: '_count', value: 0, implied: histogram && given.inf === 0 });
  if (histogram && given.inf === undefined) added.push({ suffix: '_bucket', value: given.count ?? 0, implied: given.count !== undefined });
  const countIsZero = given.count === undefined ? histogram && given.inf === 0 : given.count === 0;
  if (given.sum === undefined) added.push({ suffix: '_sum', value: 0, implied: countIsZero });
  return added;
}
