// The real consumers we test against. Under CI (CI=true) a missing binary
// fails the suite instead of skipping it.
import { accessSync, constants, realpathSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

export function findBinary(...names: string[]): string | undefined {
  const dirs = (process.env['PATH'] ?? '').split(delimiter).concat(['/usr/bin', '/usr/sbin', '/usr/local/bin']);
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = join(dir, name);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
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

/** One node_exporter binary and the version it reports (`1.9.0`), shortened to its profile (`1.9`). */
export interface NodeExporterBinary {
  readonly path: string;
  readonly version: string;
  readonly minor: string;
}

/** Where .ci/fetch-node-exporter.sh extracts Debian 13's node_exporter 1.9 and Debian unstable's 1.11. */
const CACHED = ['trixie', 'sid'].map((suite) =>
  join(process.env['PROMFILE_CI_CACHE'] ?? join(homedir(), '.cache', 'promfile-ci'), suite, 'usr/bin/prometheus-node-exporter'),
);

/** Every versioned node_exporter whose end-to-end behaviour CI must check. */
const REQUIRED_IN_CI = ['1.5', '1.9', '1.11'];

function versionOf(path: string): string | undefined {
  const result = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return /version (\d+\.\d+\.\d+)/.exec(`${result.stdout}${result.stderr}`)?.[1];
}

/**
 * Every node_exporter found: the system's, the one .ci/fetch-node-exporter.sh
 * extracted, and those in $PROMFILE_TEST_NODE_EXPORTERS (colon-separated),
 * once each, by version. Under CI=true a missing 1.5, 1.9 or 1.11 is an error.
 */
function findNodeExporters(): NodeExporterBinary[] {
  const candidates = [NODE_EXPORTER, ...CACHED, ...(process.env['PROMFILE_TEST_NODE_EXPORTERS'] ?? '').split(':')];
  const byPath = new Map<string, NodeExporterBinary>();
  for (const candidate of candidates) {
    if (!candidate || !isExecutable(candidate)) continue;
    const path = realpathSync(candidate);
    const version = byPath.has(path) ? undefined : versionOf(path);
    if (version) byPath.set(path, { path, version, minor: version.split('.').slice(0, 2).join('.') });
  }
  const found = [...byPath.values()].sort((a, b) => a.version.localeCompare(b.version, 'en', { numeric: true }));
  const missing = REQUIRED_IN_CI.filter((minor) => !found.some((binary) => binary.minor === minor));
  if (missing.length > 0 && process.env['CI'] === 'true') {
    throw new Error(`node_exporter ${missing.join(', ')} not found, and CI=true makes that a failure (see .ci/fetch-node-exporter.sh)`);
  }
  return found;
}

export const NODE_EXPORTERS: readonly NodeExporterBinary[] = findNodeExporters();
