// The bridge for Node programs that already use prom-client: a Registry's
// text output goes through the same strict parser, validation and locked
// atomic writer as the CLI. prom-client itself is never imported here: the
// caller hands us its registry, so importing promfile stays cheap.
import { InputError } from '../errors.js';
import { parseExposition } from '../format/parse.js';
import type { TargetSpec } from './files.js';
import type { MetricFamily } from '../format/types.js';
import { writeTextfile, type WriteTextfileOptions } from './write.js';

/** What we need of a prom-client `Registry` (any version): its text output and content type. */
export interface RegistryLike {
  metrics(): Promise<string> | string;
  readonly contentType?: string;
}

export type WriteRegistryOptions = Omit<WriteTextfileOptions, 'name'>;

/** Where the registry's text is said to come from, in error messages. */
const SOURCE = 'prom-client registry';

/**
 * Families that `collectDefaultMetrics()` registers (with any `prefix`). They
 * describe the short-lived Node process that writes the file, not the job,
 * and would collide between every script that writes them.
 */
const DEFAULT_METRIC =
  /(?:^|_)(?:process_(?:cpu_(?:user_|system_)?seconds_total|heap_bytes|max_fds|open_fds|resident_memory_bytes|start_time_seconds|virtual_memory_bytes)|nodejs_[a-z_]+)$/;

/** True for a family name that belongs to prom-client's default metrics (or the process_/nodejs_ namespaces). */
export function isDefaultMetricName(name: string): boolean {
  return name.startsWith('process_') || name.startsWith('nodejs_') || DEFAULT_METRIC.test(name);
}

/**
 * Read a prom-client registry into families, strictly: OpenMetrics output,
 * default metrics, timestamps and anything node_exporter would not take whole
 * are refused with an InputError (an ExpositionError for the content).
 */
export async function registryFamilies(registry: RegistryLike): Promise<MetricFamily[]> {
  if (typeof registry?.metrics !== 'function') {
    throw new InputError('ERR_INVALID_ARGUMENT', 'writeRegistry needs a prom-client Registry (an object with a metrics() method)');
  }
  if (registry.contentType !== undefined && !registry.contentType.startsWith('text/plain')) {
    throw new InputError(
      'ERR_INVALID_ARGUMENT',
      `${SOURCE}: content type "${registry.contentType}" is not the Prometheus text format node_exporter reads; create the Registry without Registry.OPENMETRICS_CONTENT_TYPE`,
    );
  }
  const text = await registry.metrics();
  if (typeof text !== 'string') throw new InputError('ERR_INVALID_ARGUMENT', `${SOURCE}: metrics() did not return text`);
  const families = parseExposition(text, { source: SOURCE });
  const defaults = families.filter((family) => isDefaultMetricName(family.name)).map((family) => family.name);
  if (defaults.length > 0) {
    const shown = defaults.slice(0, 3).join(', ') + (defaults.length > 3 ? `, and ${defaults.length - 3} more` : '');
    throw new InputError(
      'ERR_DEFAULT_METRICS',
      `${SOURCE}: holds default metrics (${shown}); they describe this short-lived Node process, not the job, and node_exporter already exports the machine's. Write a Registry without collectDefaultMetrics()`,
    );
  }
  return families;
}

/**
 * Write a prom-client registry to `<dir>/<name>.prom` or to `{ path }`,
 * validated and atomically, exactly like `promfile write`. With
 * `merge: true` the registry's series are merged into the existing file under
 * the same lock the CLI takes. Nothing is written when anything is refused.
 * Returns the path written.
 */
export async function writeRegistry(registry: RegistryLike, target: TargetSpec, options: WriteRegistryOptions = {}): Promise<string> {
  const families = await registryFamilies(registry);
  return 'path' in target
    ? writeTextfile(target.path, families, options)
    : writeTextfile(target.dir, families, { ...options, name: target.name });
}
