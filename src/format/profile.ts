// Which node_exporter promfile judges by. Versions differ in what they
// accept, drop and crash on (each difference below was seen with Debian's
// 1.5.0, 1.9.0 and 1.11.1); a profile names the versions whose rules apply, and a
// problem in any of them is a problem.
import { InputError } from '../errors.js';

/** The node_exporter versions whose behaviour promfile knows. */
export type NodeExporterVersion = '1.5' | '1.9' | '1.11';

export const KNOWN_VERSIONS: readonly NodeExporterVersion[] = ['1.5', '1.9', '1.11'];

export interface Profile {
  /** The versions whose rules apply; more than one means "refuse what any of them drops". */
  readonly versions: readonly NodeExporterVersion[];
  /** node_exporter also exports go_*, process_* and promhttp_* (false with --web.disable-exporter-metrics). */
  readonly exporterMetrics: boolean;
}

/** The strictest profile: the rules of every known version at once. */
export const ALL_VERSIONS: Profile = { versions: KNOWN_VERSIONS, exporterMetrics: true };

/**
 * The rules to judge by: a profile, or a function that finds one (reading the
 * running node_exporter's version has a cost, so it is called only when needed).
 */
export type ProfileChoice = Profile | (() => Profile);

/**
 * Judge by the given profile; with a lazy one, by the strictest rules first
 * (`judge(undefined)`) and, only when they refuse the input, by the found
 * profile's (`again`, which may need to read more under that profile).
 */
export function judgeByProfile<T>(
  profile: ProfileChoice | undefined,
  judge: (profile: Profile | undefined) => T,
  again: (found: Profile) => T = judge,
): T {
  if (typeof profile !== 'function') return judge(profile);
  const retry = (error: unknown): T => {
    if (!(error instanceof InputError)) throw error;
    return again(profile());
  };
  try {
    const verdict = judge(undefined);
    // An asynchronous judgement refuses by rejecting.
    return verdict instanceof Promise ? (verdict.catch(retry) as T) : verdict;
  } catch (error) {
    return retry(error);
  }
}

/** What one version does where versions differ. */
export interface VersionRules {
  /** `{"name"} 1`, `m{"label"="x"} 1`, `# HELP "name" ...` with legacy-valid names. */
  readonly quotedNames: boolean;
  /** `\"` in HELP text (read as `"`). */
  readonly helpQuoteEscape: boolean;
  /**
   * A HELP conflict across files is caught by the textfile collector itself
   * (1.8 and later): the family is dropped from every later file, even one
   * that agrees with the first, and node_textfile_scrape_error is 1.
   */
  readonly helpConflictInCollector: boolean;
  /** Panics on a quoted name that is not a legacy name, in a sample (`{"a.b"} 1`, `m{"a.b"="1"} 1`). */
  readonly crashesOnQuotedNonLegacyName: boolean;
  /**
   * Rejects the whole file for a quoted name that is not a legacy name,
   * anywhere, a HELP or TYPE line included (1.10 and later build the parser
   * with `model.LegacyValidation`).
   */
  readonly rejectsNonLegacyNames: boolean;
  /** Panics on a sample without a metric name (`{} 1`, `{x="1"} 1`) after a TYPE line. */
  readonly crashesOnNamelessSample: boolean;
  /** TYPE words (any case) that declare a gauge histogram: every known version panics on some of its samples. */
  readonly gaugeHistogramWords: readonly string[];
  /**
   * The samples of a gauge histogram `x` (suffixes of `x`) the version panics
   * on (`unknown metric type`); the others it exposes as untyped metrics.
   */
  readonly gaugeHistogramCrashSuffixes: readonly string[];
  /**
   * Exposes every count of a histogram (`_count` and each bucket) as 0 when
   * one of them is not a whole number below 2^64 (1.5 and 1.9 truncate each).
   */
  readonly zeroesInexactHistogramCounts: boolean;
  /** Names of node_exporter's own go_*, process_*, promhttp_* metrics (exporter metrics on). */
  readonly exporterMetricNames: ReadonlySet<string>;
}

/** go_*, process_* and promhttp_* metrics of node_exporter 1.5.0 (a summary's _sum/_count listed too). */
const EXPORTER_METRICS_15 = [
  'go_gc_duration_seconds',
  'go_gc_duration_seconds_sum',
  'go_gc_duration_seconds_count',
  'go_goroutines',
  'go_info',
  'go_memstats_alloc_bytes',
  'go_memstats_alloc_bytes_total',
  'go_memstats_buck_hash_sys_bytes',
  'go_memstats_frees_total',
  'go_memstats_gc_sys_bytes',
  'go_memstats_heap_alloc_bytes',
  'go_memstats_heap_idle_bytes',
  'go_memstats_heap_inuse_bytes',
  'go_memstats_heap_objects',
  'go_memstats_heap_released_bytes',
  'go_memstats_heap_sys_bytes',
  'go_memstats_last_gc_time_seconds',
  'go_memstats_lookups_total',
  'go_memstats_mallocs_total',
  'go_memstats_mcache_inuse_bytes',
  'go_memstats_mcache_sys_bytes',
  'go_memstats_mspan_inuse_bytes',
  'go_memstats_mspan_sys_bytes',
  'go_memstats_next_gc_bytes',
  'go_memstats_other_sys_bytes',
  'go_memstats_stack_inuse_bytes',
  'go_memstats_stack_sys_bytes',
  'go_memstats_sys_bytes',
  'go_threads',
  'process_cpu_seconds_total',
  'process_max_fds',
  'process_open_fds',
  'process_resident_memory_bytes',
  'process_start_time_seconds',
  'process_virtual_memory_bytes',
  'process_virtual_memory_max_bytes',
  'promhttp_metric_handler_errors_total',
  'promhttp_metric_handler_requests_in_flight',
  'promhttp_metric_handler_requests_total',
];

/** 1.9.0 (newer client_golang) dropped go_memstats_lookups_total and added these. */
const EXPORTER_METRICS_19 = [
  ...EXPORTER_METRICS_15.filter((name) => name !== 'go_memstats_lookups_total'),
  'go_gc_gogc_percent',
  'go_gc_gomemlimit_bytes',
  'go_sched_gomaxprocs_threads',
  'process_network_receive_bytes_total',
  'process_network_transmit_bytes_total',
];

const RULES: Readonly<Record<NodeExporterVersion, VersionRules>> = {
  '1.5': {
    quotedNames: false,
    helpQuoteEscape: false,
    helpConflictInCollector: false,
    crashesOnQuotedNonLegacyName: false,
    rejectsNonLegacyNames: false,
    crashesOnNamelessSample: false,
    gaugeHistogramWords: ['gauge_histogram'],
    gaugeHistogramCrashSuffixes: [''],
    zeroesInexactHistogramCounts: false,
    exporterMetricNames: new Set(EXPORTER_METRICS_15),
  },
  '1.9': {
    quotedNames: true,
    helpQuoteEscape: true,
    helpConflictInCollector: true,
    crashesOnQuotedNonLegacyName: true,
    rejectsNonLegacyNames: false,
    crashesOnNamelessSample: true,
    gaugeHistogramWords: ['gauge_histogram'],
    gaugeHistogramCrashSuffixes: [''],
    zeroesInexactHistogramCounts: false,
    exporterMetricNames: new Set(EXPORTER_METRICS_19),
  },
  // Debian's 1.11.1: the textfile collector parses with expfmt.NewTextParser(model.LegacyValidation).
  '1.11': {
    quotedNames: true,
    helpQuoteEscape: true,
    helpConflictInCollector: true,
    crashesOnQuotedNonLegacyName: false,
    rejectsNonLegacyNames: true,
    crashesOnNamelessSample: true,
    gaugeHistogramWords: ['gauge_histogram', 'gaugehistogram'],
    gaugeHistogramCrashSuffixes: ['', '_bucket', '_sum', '_count'],
    zeroesInexactHistogramCounts: true,
    // Same go_*, process_* and promhttp_* names as 1.9.0 (seen on its /metrics).
    exporterMetricNames: new Set(EXPORTER_METRICS_19),
  },
};

/**
 * The minor versions each profile judges. 1.10.0 introduced the textfile
 * parser 1.11 uses (`expfmt.NewTextParser(model.LegacyValidation)`), so 1.10.x
 * takes the 1.11 profile (Debian never shipped 1.10: not observed). A newer
 * version has no profile: promfile judges by every known version at once.
 */
const PROFILE_OF_MINOR: Readonly<Record<string, NodeExporterVersion>> = { '1.5': '1.5', '1.9': '1.9', '1.10': '1.11', '1.11': '1.11' };

/** The profile of one node_exporter version, e.g. `1.9.0`; undefined for a version promfile does not know. */
export function profileForVersion(version: string, exporterMetrics = true): Profile | undefined {
  const minor = /^v?(\d+\.\d+)(?:\.|$)/.exec(version)?.[1];
  const known = minor === undefined || !Object.hasOwn(PROFILE_OF_MINOR, minor) ? undefined : PROFILE_OF_MINOR[minor];
  return known === undefined ? undefined : { versions: [known], exporterMetrics };
}

/** `node_exporter 1.9`, or `node_exporter 1.5 and 1.9`. */
export function describeVersions(versions: readonly NodeExporterVersion[]): string {
  const list = versions.length <= 1 ? versions.join('') : `${versions.slice(0, -1).join(', ')} and ${versions.at(-1) ?? ''}`;
  return `node_exporter ${list}`;
}

/** The profile's versions for which `rule` holds. */
export function versionsWhere(profile: Profile, rule: (rules: VersionRules) => boolean): NodeExporterVersion[] {
  return profile.versions.filter((version) => rule(RULES[version]));
}

/**
 * Why a construct only some versions read is refused under `profile`, naming
 * the versions on each side (`reads`: which versions read it, when passing the rule is not reading it);
 * null when every version of the profile reads it.
 */
export function versionGap(
  profile: Profile,
  accepts: (rules: VersionRules) => boolean,
  reads: (rules: VersionRules) => boolean = accepts,
): string | null {
  const refusing = versionsWhere(profile, (rules) => !accepts(rules));
  if (refusing.length === 0) return null;
  const accepting = KNOWN_VERSIONS.filter((version) => reads(RULES[version]));
  const others = accepting.length > 0 ? ` (${describeVersions(accepting)} ${verb(accepting, 'reads')} it)` : '';
  return `${describeVersions(refusing)} ${verb(refusing, 'rejects')} the whole file${others}`;
}

/** The crash message for a construct that crashes some known version, whatever the profile. */
export function crashMessage(crashes: (rules: VersionRules) => boolean, what: string): string | undefined {
  const crashing = KNOWN_VERSIONS.filter((version) => crashes(RULES[version]));
  if (crashing.length === 0) return undefined;
  return `${what}: ${describeVersions(crashing)} ${verb(crashing, 'panics')} on it at every scrape (the whole exporter goes down, not just this file)`;
}

/** `panics` for one version, `panic` for several. */
export function verb(versions: readonly NodeExporterVersion[], singular: string): string {
  return versions.length > 1 ? singular.replace(/s$/, '') : singular;
}

/** The versions of the profile that export `name` themselves (so a textfile's family of that name is dropped). */
export function exportersOf(profile: Profile, name: string): NodeExporterVersion[] {
  if (!profile.exporterMetrics) return [];
  return versionsWhere(profile, (rules) => rules.exporterMetricNames.has(name));
}

/** Prefixes of node_exporter's exporter metrics, for names no known version exports (yet). */
export const EXPORTER_METRIC_PREFIXES: readonly string[] = ['go_', 'process_', 'promhttp_'];
