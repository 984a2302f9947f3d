// The real consumers we test against. Under CI (CI=true) a missing binary
// fails the suite instead of skipping it.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export function findBinary(...names: string[]): string | undefined {
  const dirs = (process.env['PATH'] ?? '').split(delimiter).concat(['/usr/bin', '/usr/sbin', '/usr/local/bin']);
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // keep looking
      }
    }
  }
  return undefined;
}

/** The binary's path; undefined (skip) outside CI, an error under CI. */
export function requireBinary(...names: string[]): string | undefined {
  const found = findBinary(...names);
  if (!found && process.env['CI'] === 'true') {
    throw new Error(`${names[0]} is not installed, and CI=true makes that a failure (apt-get install it; see .ci/run)`);
  }
  return found;
}

export const NODE_EXPORTER = requireBinary('prometheus-node-exporter', 'node_exporter');
export const PROMTOOL = requireBinary('promtool');
