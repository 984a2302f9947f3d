import { mergeFamilies } from '../format/model.js';
import { updateTextfile, type UpdateOptions } from './update.js';
import { resolveTarget } from './files.js';
import type { MetricFamily } from '../format/types.js';

export interface WriteTextfileOptions extends Omit<UpdateOptions, 'replace'> {
  /** File name without `.prom`, when `location` is a directory. */
  readonly name?: string;
  /** Merge into the existing file under its lock instead of replacing it. */
  readonly merge?: boolean;
}

/**
 * Validate `families` and write them to `location` atomically. `location` is a
 * `.prom` path, or a directory when `options.name` is given. Returns the path.
 */
export async function writeTextfile(
  location: string,
  families: readonly MetricFamily[],
  options: WriteTextfileOptions = {},
): Promise<string> {
  const path = options.name === undefined ? resolveTarget({ path: location }) : resolveTarget({ dir: location, name: options.name });
  const { merge, name: _name, ...rest } = options;
  await updateTextfile(path, (current) => (merge ? mergeFamilies(current, families) : [...families]), { ...rest, replace: !merge });
  return path;
}
