// The promfile library. Named re-exports only; nothing here touches process.
export type { Labels, MetricFamily, MetricType, Problem, Sample, Severity } from './format/types.js';
export { METRIC_TYPES } from './format/types.js';
export { ExpositionError, InputError, IoError, PromfileError, type ErrorCode } from './errors.js';
export { parseExposition, readExposition, type Exposition, type ReadOptions } from './format/parse.js';
export { renderExposition, escapeHelp, escapeLabelValue } from './format/render.js';
export { validateFamilies, validateFamily, seriesKey, describeSeries } from './format/validate.js';
export { formatGoFloat, parseGoFloat } from './format/number.js';
export {
  mergeFamilies,
  setSeries,
  unsetSeries,
  removeFamilies,
  getSeries,
  DEFAULT_HELP,
  type SeriesValue,
  type SetOptions,
} from './format/model.js';
export { resolveTarget, DEFAULT_TEXTFILE_DIR, DEFAULT_MODE, type TargetSpec, type WriteOptions } from './textfile/files.js';
export { updateTextfile, deleteTextfile, readFamilies, type UpdateOptions, type UpdateResult } from './textfile/update.js';
export { acquireLock, withLock, lockPathFor, isLockHeld, type Lock, type LockOptions } from './textfile/lock.js';
export { writeTextfile, type WriteTextfileOptions } from './textfile/write.js';
export { writeRegistry, registryFamilies, isDefaultMetricName, type RegistryLike, type WriteRegistryOptions } from './textfile/registry.js';
export {
  pushFamilies,
  deletePushGroup,
  checkPush,
  groupUrl,
  HOST_LABELS,
  DEFAULT_PUSH_TIMEOUT_MS,
  type PushGroup,
  type PushOptions,
  type PushResult,
} from './push/gateway.js';
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
} from './inspect/check.js';
export {
  chooseDirectory,
  discoverExporters,
  scanExporters,
  trustedExporter,
  type ChosenDirectory,
  type DiscoveredExporter,
  type IgnoredProcess,
} from './inspect/discover.js';
