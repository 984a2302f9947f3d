// Which textfile directory to use when none is given: ask the running
// node_exporter (its command line under /proc) before guessing the Debian
// default. Any user can start a process that calls itself node_exporter, so
// only what the kernel vouches for counts: the binary /proc/PID/exe points
// to, and the ids in /proc/PID/status. The /proc root is a parameter so tests
// can point it at a fake tree.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { ALL_VERSIONS, describeVersions, profileForVersion, type Profile } from '../format/profile.js';
import { DEFAULT_TEXTFILE_DIR } from '../textfile/files.js';

/** Where the kernel shows processes; tests point it elsewhere (PROMFILE_PROC_ROOT). */
export const DEFAULT_PROC_ROOT = '/proc';

/** A running node_exporter and the textfile directories it reads. */
export interface DiscoveredExporter {
  readonly pid: number;
  /** The process' real (and effective) user id, from /proc/<pid>/status. */
  readonly uid: number;
  /** Its binary, as /proc/<pid>/exe shows it. */
  readonly executable: string;
  /** Values of --collector.textfile.directory, made absolute against the process' cwd. */
  readonly directories: readonly string[];
  /** False when it runs with --web.disable-exporter-metrics (no go_*, process_*, promhttp_*). */
  readonly exporterMetrics: boolean;
}

/** A process that names a textfile directory but is not trusted to choose ours. */
export interface IgnoredProcess {
  readonly pid: number;
  readonly reason: string;
}

const FLAG = 'collector.textfile.directory';
const EXPORTER = /^(?:prometheus-)?node[_-]exporter$/;

/** Parse one process' argv; undefined unless it is a node_exporter with the textfile collector on. */
export function parseExporterArgs(
  argv: readonly string[],
): { executable: string; directories: string[]; exporterMetrics: boolean } | undefined {
  const executable = argv[0];
  if (executable === undefined || !EXPORTER.test(basename(executable))) return undefined;
  const named = textfileDirectories(argv);
  return named === undefined ? undefined : { executable, ...named };
}

/** The textfile directories on a command line, and whether exporter metrics are on; undefined when the collector is off. */
function textfileDirectories(argv: readonly string[]): { directories: string[]; exporterMetrics: boolean } | undefined {
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
  return enabled ? { directories: directories.filter((dir) => dir !== ''), exporterMetrics } : undefined;
}

export interface Discovery {
  /** Trusted node_exporters, by pid. */
  readonly exporters: DiscoveredExporter[];
  /** Processes that name a textfile directory but failed a trust rule, by pid. */
  readonly ignored: IgnoredProcess[];
}

/** Every process under `procRoot` that names a textfile directory, judged by the trust rules (trustedExporter). */
export function scanExporters(procRoot: string = DEFAULT_PROC_ROOT, uid?: number): Discovery {
  let entries: string[];
  try {
    entries = readdirSync(procRoot);
  } catch {
    return { exporters: [], ignored: [] }; // no /proc (not Linux, or hidden): nothing to discover
  }
  const exporters: DiscoveredExporter[] = [];
  const ignored: IgnoredProcess[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const dir = join(procRoot, entry);
    let raw: string;
    try {
      raw = readFileSync(join(dir, 'cmdline'), 'utf8');
    } catch {
      continue; // the process ended while we looked, or is hidden from us
    }
    const argv = raw.split('\u0000').filter((arg, i, all) => arg !== '' || i < all.length - 1);
    const named = textfileDirectories(argv);
    if (!named || named.directories.length === 0) continue;
    const judged = judgeProcess(dir, Number(entry), uid);
    if ('reason' in judged) {
      // Quietly skip what merely mentions the flag; report what poses as node_exporter.
      if (EXPORTER.test(basename(argv[0] ?? '')) || judged.named) ignored.push({ pid: judged.pid, reason: judged.reason });
      continue;
    }
    const cwd = readLink(join(dir, 'cwd'));
    const directories = named.directories.map((path) => (isAbsolute(path) || cwd === undefined ? path : resolve(cwd, path)));
    exporters.push({ ...judged, directories, exporterMetrics: named.exporterMetrics });
  }
  return { exporters: exporters.sort((a, b) => a.pid - b.pid), ignored: ignored.sort((a, b) => a.pid - b.pid) };
}

/** Trusted node_exporters under `procRoot`, by pid. */
export function discoverExporters(procRoot: string = DEFAULT_PROC_ROOT, uid?: number): DiscoveredExporter[] {
  return scanExporters(procRoot, uid).exporters;
}

/** Below this uid, accounts are system accounts (root, prometheus, ...) on Debian and most distributions. */
const FIRST_REGULAR_UID = 1000;

type Judgement = { pid: number; uid: number; executable: string } | { pid: number; reason: string; named: boolean };

/**
 * The trust rules: the binary (/proc/PID/exe, not argv[0]) is named
 * node_exporter or prometheus-node-exporter, belongs to root and is writable
 * by nobody else; the process is not set-id (real = effective = saved ids);
 * it runs as root, a system account, or the caller.
 */
function judgeProcess(dir: string, pid: number, uid: number | undefined): Judgement {
  const executable = readLink(join(dir, 'exe'))?.replace(/ \(deleted\)$/, '');
  if (executable === undefined) return { pid, named: false, reason: 'its executable (/proc/PID/exe) cannot be read' };
  const named = EXPORTER.test(basename(executable));
  const refuse = (reason: string): Judgement => ({ pid, named, reason: `${reason} (executable ${executable})` });
  if (!named) return refuse('its executable is not named node_exporter or prometheus-node-exporter');
  let binary;
  try {
    binary = statSync(join(dir, 'exe'));
  } catch {
    return refuse('its executable cannot be examined');
  }
  if (binary.uid !== 0) return refuse(`its executable belongs to uid ${binary.uid}, not root`);
  if ((binary.mode & 0o022) !== 0) return refuse('its executable is writable by group or others');
  const ids = readIds(join(dir, 'status'));
  if (!ids) return refuse('its user ids (/proc/PID/status) cannot be read');
  if (new Set(ids.uids).size !== 1 || new Set(ids.gids).size !== 1) return refuse('it runs set-id (real and effective ids differ)');
  const owner = ids.uids[0] as number;
  if (!trustedUser(owner, uid)) return refuse(`it runs as uid ${owner}, neither a system account nor you`);
  return { pid, uid: owner, executable };
}

/** Real, effective, saved and filesystem uids and gids. */
function readIds(statusPath: string): { uids: number[]; gids: number[] } | undefined {
  let text: string;
  try {
    text = readFileSync(statusPath, 'utf8');
  } catch {
    return undefined;
  }
  const ids = (key: string): number[] | undefined => {
    const values = new RegExp(`^${key}:\\s+(.*)$`, 'm').exec(text)?.[1]?.trim().split(/\s+/).map(Number);
    return values && values.length >= 2 && values.every(Number.isInteger) ? values : undefined;
  };
  const uids = ids('Uid');
  const gids = ids('Gid');
  return uids && gids ? { uids, gids } : undefined;
}

function readLink(link: string): string | undefined {
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
  /** node_exporter look-alikes that were not trusted, and why (for `check` to say). */
  readonly ignored: readonly IgnoredProcess[];
}

export interface ChooseOptions {
  readonly flag?: string | undefined;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly procRoot?: string;
  /** Our own uid: a node_exporter run by this user is trusted too. */
  readonly uid?: number | undefined;
}

/** Whether a discovered exporter's user may choose where `uid` writes: root, a system account, or `uid` itself. */
export function trustedExporter(exporter: DiscoveredExporter, uid: number | undefined): boolean {
  return trustedUser(exporter.uid, uid);
}

function trustedUser(owner: number, uid: number | undefined): boolean {
  return owner < FIRST_REGULAR_UID || owner === uid;
}

/** --dir, then $PROMFILE_DIR, then a running node_exporter's textfile directory, then the Debian default. */
export function chooseDirectory(options: ChooseOptions = {}): ChosenDirectory {
  if (options.flag !== undefined && options.flag !== '') return { dir: options.flag, source: 'flag', reason: 'from --dir', ignored: [] };
  const fromEnv = options.env?.['PROMFILE_DIR'];
  if (fromEnv) return { dir: fromEnv, source: 'env', reason: 'from $PROMFILE_DIR', ignored: [] };
  const { exporters, ignored } = scanExporters(options.procRoot ?? options.env?.['PROMFILE_PROC_ROOT'] ?? DEFAULT_PROC_ROOT, options.uid);
  const first = exporters[0];
  const dir = first?.directories[0];
  if (first && dir !== undefined) {
    const others = new Set(exporters.flatMap((exporter) => exporter.directories).filter((other) => other !== dir));
    const also = others.size > 0 ? `; it or other node_exporters also read ${[...others].join(', ')}` : '';
    return { dir, source: 'node_exporter', reason: `from --${FLAG} of the running node_exporter (pid ${first.pid})${also}`, ignored };
  }
  return {
    dir: DEFAULT_TEXTFILE_DIR,
    source: 'default',
    reason: 'the Debian default: no --dir, no $PROMFILE_DIR and no running node_exporter with a textfile directory',
    ignored,
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
