// Which textfile directory to use when none is given: ask the running
// node_exporter (its command line under /proc) before guessing the Debian
// default. The /proc root is a parameter so tests can point it at a fake tree.
import { spawnSync } from 'node:child_process';
import { DEFAULT_PROC_ROOT } from '../textfile/lock.js';
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { ALL_VERSIONS, describeVersions, profileForVersion, type Profile } from '../format/profile.js';
import { DEFAULT_TEXTFILE_DIR } from '../textfile/files.js';

/** A running node_exporter and the textfile directories it reads. */
export interface DiscoveredExporter {
  readonly pid: number;
  /** The process' user (owner of /proc/<pid>). */
  readonly uid: number;
  readonly executable: string;
  /** Values of --collector.textfile.directory, made absolute against the process' cwd. */
  readonly directories: readonly string[];
  /** False when it runs with --web.disable-exporter-metrics (no go_*, process_*, promhttp_*). */
  readonly exporterMetrics: boolean;
}

const FLAG = 'collector.textfile.directory';
const EXPORTER = /^(?:prometheus-)?node[_-]exporter$/;

/** Parse one process' argv; undefined unless it is a node_exporter with the textfile collector on. */
export function parseExporterArgs(
  argv: readonly string[],
): { executable: string; directories: string[]; exporterMetrics: boolean } | undefined {
  const executable = argv[0];
  if (executable === undefined || !EXPORTER.test(basename(executable))) return undefined;
  const directories: string[] = [];
  let enabled = true;
  let exporterMetrics = true;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i] as string;
    // Go flag parsers accept one or two dashes.
    const flag = arg.replace(/^--?/, '');
    if (flag === 'web.disable-exporter-metrics') exporterMetrics = false;
    else if (flag === 'no-web.disable-exporter-metrics') exporterMetrics = true;
    else if (flag === 'no-collector.textfile') enabled = false;
    else if (flag === 'collector.textfile') enabled = true;
    else if (flag.startsWith(`${FLAG}=`)) directories.push(flag.slice(FLAG.length + 1));
    else if (flag === FLAG && i + 1 < argv.length) directories.push(argv[++i] as string);
  }
  if (!enabled) return undefined;
  return { executable, directories: directories.filter((dir) => dir !== ''), exporterMetrics };
}

/** Every node_exporter under `procRoot` that names a textfile directory, by pid. */
export function discoverExporters(procRoot: string = DEFAULT_PROC_ROOT): DiscoveredExporter[] {
  let entries: string[];
  try {
    entries = readdirSync(procRoot);
  } catch {
    return []; // no /proc (not Linux, or hidden): nothing to discover
  }
  const found: DiscoveredExporter[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let raw: string;
    try {
      raw = readFileSync(join(procRoot, entry, 'cmdline'), 'utf8');
    } catch {
      continue; // the process ended while we looked, or is hidden from us
    }
    const parsed = parseExporterArgs(raw.split('\u0000').filter((arg, i, all) => arg !== '' || i < all.length - 1));
    if (!parsed || parsed.directories.length === 0) continue;
    let uid: number;
    try {
      uid = statSync(join(procRoot, entry)).uid;
    } catch {
      continue;
    }
    const cwd = readCwd(join(procRoot, entry, 'cwd'));
    const directories = parsed.directories.map((dir) => (isAbsolute(dir) || cwd === undefined ? dir : resolve(cwd, dir)));
    found.push({ pid: Number(entry), uid, executable: parsed.executable, directories, exporterMetrics: parsed.exporterMetrics });
  }
  return found.sort((a, b) => a.pid - b.pid);
}

function readCwd(link: string): string | undefined {
  try {
    return readlinkSync(link);
  } catch {
    return undefined;
  }
}

/** Where the directory came from, for `check` to say. */
export type DirectorySource = 'flag' | 'env' | 'node_exporter' | 'default';

export interface ChosenDirectory {
  readonly dir: string;
  readonly source: DirectorySource;
  /** Why this directory, in words, e.g. `from --collector.textfile.directory of node_exporter (pid 812)`. */
  readonly reason: string;
}

export interface ChooseOptions {
  readonly flag?: string | undefined;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly procRoot?: string;
  /** Our own uid: a node_exporter run by this user is trusted too. */
  readonly uid?: number | undefined;
}

/** Below this uid, accounts are system accounts (root, prometheus, ...) on Debian and most distributions. */
const FIRST_REGULAR_UID = 1000;

/**
 * Only a node_exporter run by a system account or by ourselves may choose
 * where we write: any user can start a process named node_exporter.
 */
export function trustedExporter(exporter: DiscoveredExporter, uid: number | undefined): boolean {
  return exporter.uid < FIRST_REGULAR_UID || exporter.uid === uid;
}

/** --dir, then $PROMFILE_DIR, then a running node_exporter's textfile directory, then the Debian default. */
export function chooseDirectory(options: ChooseOptions = {}): ChosenDirectory {
  if (options.flag !== undefined && options.flag !== '') return { dir: options.flag, source: 'flag', reason: 'from --dir' };
  const fromEnv = options.env?.['PROMFILE_DIR'];
  if (fromEnv) return { dir: fromEnv, source: 'env', reason: 'from $PROMFILE_DIR' };
  const exporters = discoverExporters(options.procRoot ?? options.env?.['PROMFILE_PROC_ROOT'] ?? DEFAULT_PROC_ROOT).filter((exporter) =>
    trustedExporter(exporter, options.uid),
  );
  const first = exporters[0];
  const dir = first?.directories[0];
  if (first && dir !== undefined) {
    const others = new Set(exporters.flatMap((exporter) => exporter.directories).filter((other) => other !== dir));
    const also = others.size > 0 ? `; it or other node_exporters also read ${[...others].join(', ')}` : '';
    return { dir, source: 'node_exporter', reason: `from --${FLAG} of the running node_exporter (pid ${first.pid})${also}` };
  }
  return {
    dir: DEFAULT_TEXTFILE_DIR,
    source: 'default',
    reason: 'the Debian default: no --dir, no $PROMFILE_DIR and no running node_exporter with a textfile directory',
  };
}

/** How long `node_exporter --version` may take: it prints and exits at once. */
const VERSION_TIMEOUT_MS = 3000;

/**
 * The version of a running node_exporter (e.g. `1.9.0`), from its binary's
 * `--version`: /proc/<pid>/exe, else its argv[0] when that is absolute.
 * Undefined when neither runs within the timeout or prints no version.
 */
export function exporterVersion(exporter: DiscoveredExporter, procRoot: string = DEFAULT_PROC_ROOT): string | undefined {
  const binaries = [join(procRoot, String(exporter.pid), 'exe'), ...(isAbsolute(exporter.executable) ? [exporter.executable] : [])];
  for (const binary of binaries) {
    const result = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: VERSION_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
    const version = /version v?(\d+\.\d+\.\d+)/.exec(`${result.stdout ?? ''}${result.stderr ?? ''}`)?.[1];
    if (version) return version;
  }
  return undefined;
}

export interface ChosenProfile {
  readonly profile: Profile;
  /** Why these rules, in words, e.g. `node_exporter 1.9, the version of the running node_exporter (pid 812)`. */
  readonly reason: string;
}

export interface ProfileOptions extends ChooseOptions {
  /** The textfile directory: only a node_exporter reading it counts. */
  readonly dir?: string;
}

/**
 * Whose rules to judge by: --node-exporter, else the running node_exporter's
 * version, else every known version at once (the strictest). Whether it
 * exports go_*, process_* and promhttp_* comes from its command line.
 */
export function chooseProfile(options: ProfileOptions = {}): ChosenProfile {
  const procRoot = options.procRoot ?? options.env?.['PROMFILE_PROC_ROOT'] ?? DEFAULT_PROC_ROOT;
  const exporters = discoverExporters(procRoot).filter((exporter) => trustedExporter(exporter, options.uid));
  // With a directory, only a node_exporter that reads it judges it (and costs a --version run).
  const running =
    options.dir === undefined ? exporters[0] : exporters.find((exporter) => exporter.directories.includes(options.dir as string));
  const exporterMetrics = running?.exporterMetrics ?? true;
  const metrics = exporterMetrics ? '' : '; it runs with --web.disable-exporter-metrics';
  if (options.flag !== undefined && options.flag !== '') {
    const profile = profileForVersion(options.flag, exporterMetrics);
    if (profile) return { profile, reason: `${describeVersions(profile.versions)}, from --node-exporter${metrics}` };
  }
  const strictest = { ...ALL_VERSIONS, exporterMetrics };
  const every = `${describeVersions(strictest.versions)} at once (the strictest)`;
  if (!running) {
    const which = options.dir === undefined ? 'no running node_exporter found' : `no running node_exporter reads ${options.dir}`;
    return { profile: strictest, reason: `${every}: ${which}` };
  }
  const version = exporterVersion(running, procRoot);
  const profile = version === undefined ? undefined : profileForVersion(version, exporterMetrics);
  if (profile)
    return {
      profile,
      reason: `${describeVersions(profile.versions)}, the version of the running node_exporter (pid ${running.pid}: ${version})${metrics}`,
    };
  const why = version === undefined ? 'whose version could not be read' : `version ${version}, which promfile has no profile for`;
  return { profile: strictest, reason: `${every}: the running node_exporter (pid ${running.pid}) is ${why}${metrics}` };
}
