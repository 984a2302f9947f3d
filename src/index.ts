// The promfile library: the documented API and nothing else (docs/library.md).
// Everything not exported here is internal and may change.
// Nothing here touches process or prints.
export type { Labels, MetricFamily, MetricType, Problem, Rule, Sample, Severity } from './format/types.js';
export { ExpositionError, InputError, IoError, PromfileError, type ErrorCode } from './errors.js';

// Text ⇄ families.
export { parseExposition } from './format/parse.js';
export { renderExposition } from './format/render.js';
export { mergeFamilies, setSeries, unsetSeries, type SeriesValue, type SetOptions } from './format/model.js';

// Writing textfiles.
export { DEFAULT_TEXTFILE_DIR, type TargetSpec } from './textfile/files.js';
export { updateTextfile, type UpdateOptions, type UpdateResult } from './textfile/update.js';
export { writeTextfile, type WriteTextfileOptions } from './textfile/write.js';
export type { NameEscaping } from './format/name-escaping.js';
export { writeRegistry, type RegistryLike, type WriteRegistryOptions } from './textfile/registry.js';

// Seeing the directory as node_exporter does.
export { checkDirectory, checkText, type Analysis, type CheckOptions, type CheckRule, type Finding } from './inspect/check.js';
export { chooseDirectory, type ChosenDirectory } from './inspect/discover.js';

// Pushgateway (service-level jobs only).
export { deletePushGroup, pushFamilies, type PushGroup, type PushOptions, type PushResult } from './push/gateway.js';
