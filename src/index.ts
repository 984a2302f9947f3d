// The promfile library. Named re-exports only; nothing here touches process.
export type { Labels, MetricFamily, MetricType, Problem, Sample, Severity } from './types.js';
export { METRIC_TYPES } from './types.js';
export { ExpositionError, InputError, IoError, PromfileError, type ErrorCode } from './errors.js';
export { parseExposition, readExposition, type Exposition, type ReadOptions } from './parse.js';
export { renderExposition, escapeHelp, escapeLabelValue } from './render.js';
export { validateFamilies, validateFamily, seriesKey, describeSeries } from './validate.js';
export { formatGoFloat, parseGoFloat } from './number.js';
export { mergeFamilies, setSeries, unsetSeries, removeFamilies, getSeries, DEFAULT_HELP, type SeriesValue, type SetOptions } from './model.js';
export { resolveTarget, DEFAULT_TEXTFILE_DIR, DEFAULT_MODE, type TargetSpec, type WriteOptions } from './textfile.js';
export { updateTextfile, readFamilies, type UpdateOptions, type UpdateResult } from './store.js';
export { acquireLock, withLock, lockPathFor, type Lock, type LockOptions } from './lock.js';
export { writeTextfile, type WriteTextfileOptions } from './write.js';
export { writeRegistry, registryFamilies, isDefaultMetricName, type RegistryLike, type WriteRegistryOptions } from './registry.js';
export { pushFamilies, deletePushGroup, checkPush, groupUrl, HOST_LABELS, DEFAULT_PUSH_TIMEOUT_MS, type PushGroup, type PushOptions, type PushResult } from './push.js';
export {
  analyseTextfiles,
  checkDirectory,
  checkFile,
  checkText,
  compareWithScrape,
  fetchScrape,
  losesData,
  TEMP_GRACE_MS,
  type Analysis,
  type CheckOptions,
  type Finding,
  type ParsedFile,
  type SourceFile,
} from './check.js';
export { chooseDirectory, discoverExporters, trustedExporter, type ChosenDirectory, type DiscoveredExporter } from './discover.js';
