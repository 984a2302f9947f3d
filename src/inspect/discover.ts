// Which textfile directory to use when none is given: ask the running
// node_exporter (its command line under /proc) before guessing the Debian
// default. Any user can start a process that calls itself node_exporter, so
// only processes process-trust.ts vouches for count. The /proc root is a
// library option so in-process tests can point it at a fake tree; the CLI
// never takes it from its environment or arguments.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { InputError, listed } from '../errors.js';
import { ALL_VERSIONS, describeVersions, profileForVersion, type Profile } from '../format/profile.js';
import { DEFAULT_TEXTFILE_DIR } from '../textfile/files.js';
import { EXPORTER_NAME, judgeProcess, readLink, unsafeBinary } from './process-trust.js';

/** Where the kernel shows processes. */
export const DEFAULT_PROC_ROOT = '/proc';

/** A running node_exporter and the textfile directories it reads. */
export interface DiscoveredExporter {
  readonly pid: number;
  /** The process' real (and effective) user id, from /proc/<pid>/status. */
  readonly uid: number;
  /** The systemd system unit it runs in (from /proc/<pid>/cgroup), if any. */
  readonly unit?: string;
  /** Its binary, as /proc/<pid>/exe shows it. */
  readonly executable: string;
  /** Values of --collector.textfile.directory, made absolute against the process' cwd. */
  readonly directories: readonly string[];
  /** False when it runs with --web.disable-exporter-metrics (no go_*, process_*, promhttp_*). */
  readonly exporterMetrics: boolean;
  /** Values of --web.listen-address (node_exporter's default: `:9100`). */
  readonly listenAddresses: readonly string[];
  /** --web.telemetry-path (default `/metrics`). */
  readonly metricsPath: string;
}

/** A process that names a textfile directory but is not trusted to choose ours. */
export interface IgnoredProcess {
  readonly pid: number;
  readonly reason: string;
}

const FLAG = 'collector.textfile.directory';

/** What a node_exporter command line says. */
interface ExporterArgs {
  directories: string[];
  exporterMetrics: boolean;
  listenAddresses: string[];
  metricsPath: string;
}

/** Parse one process' argv; undefined unless it is a node_exporter with the textfile collector on. */
export function parseExporterArgs(argv: readonly string[]): ({ executable: string } & ExporterArgs) | undefined {
  const executable = argv[0];
  if (executable === undefined || !EXPORTER_NAME.test(basename(executable))) return undefined;
  const named = exporterArgs(argv);
  return named === undefined ? undefined : { executable, ...named };
}

/** The flags of a command line that matter here; undefined when the textfile collector is off. */
function exporterArgs(argv: readonly string[]): ExporterArgs | undefined {
  const valued: Record<string, string[]> = { [FLAG]: [], 'web.listen-address': [], 'web.telemetry-path': [] };
  let enabled = true;
  let exporterMetrics = true;
  for (let i = 1; i < argv.length; i++) {
    // Go flag parsers accept one or two dashes.
    const flag = (argv[i] as string).replace(/^--?/, '');
    const name = flag.split('=', 1)[0] as string;
    if (flag === 'web.disable-exporter-metrics') exporterMetrics = false;
    else if (flag === 'no-web.disable-exporter-metrics') exporterMetrics = true;
    else if (flag === 'no-collector.textfile') enabled = false;
    else if (flag === 'collector.textfile') enabled = true;
    else if (valued[name] && flag.includes('=')) valued[name].push(flag.slice(name.length + 1));
    else if (valued[flag] && i + 1 < argv.length) valued[flag].push(argv[++i] as string);
  }
  if (!enabled) return undefined;
  const listen = valued['web.listen-address'] as string[];
  return {
    directories: (valued[FLAG] as string[]).filter((dir) => dir !== ''),
    exporterMetrics,
    listenAddresses: listen.length > 0 ? listen : [':9100'],
    metricsPath: valued['web.telemetry-path']?.at(-1) ?? '/metrics',
  };
}

export interface Discovery {
  /** Trusted node_exporters, by pid. */
  readonly exporters: DiscoveredExporter[];
  /** Processes that name a textfile directory but failed a trust rule, by pid. */
  readonly ignored: IgnoredProcess[];
}

/** Every process under `procRoot` that names a textfile directory, judged by the trust rules (process-trust.ts). */
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
    const named = exporterArgs(argv);
    if (!named || named.directories.length === 0) continue;
    const cwd = readLink(join(dir, 'cwd'));
    const directories = named.directories.map((path) => (isAbsolute(path) || cwd === undefined ? path : resolve(cwd, path)));
    const judged = judgeProcess(dir, Number(entry), uid, directories);
    if ('reason' in judged) {
      // Quietly skip what merely mentions the flag; report what poses as node_exporter.
      if (EXPORTER_NAME.test(basename(argv[0] ?? '')) || judged.named) ignored.push({ pid: judged.pid, reason: judged.reason });
      continue;
    }
    exporters.push({ ...judged, ...named, directories });
  }
  return { exporters: exporters.sort((a, b) => a.pid - b.pid), ignored: ignored.sort((a, b) => a.pid - b.pid) };
}

/** Trusted node_exporters under `procRoot`, by pid. */
export function discoverExporters(procRoot: string = DEFAULT_PROC_ROOT, uid?: number): DiscoveredExporter[] {
  return scanExporters(procRoot, uid).exporters;
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

/**
 * --dir, then $PROMFILE_DIR, then the textfile directory the running
 * node_exporter reads, then the Debian default. Trusted node_exporters that
 * read different directories leave no safe guess: an InputError asks for --dir.
 */
export function chooseDirectory(options: ChooseOptions = {}): ChosenDirectory {
  if (options.flag !== undefined && options.flag !== '') return { dir: options.flag, source: 'flag', reason: 'from --dir', ignored: [] };
  const fromEnv = options.env?.['PROMFILE_DIR'];
  if (fromEnv) return { dir: fromEnv, source: 'env', reason: 'from $PROMFILE_DIR', ignored: [] };
  const { exporters, ignored } = scanExporters(options.procRoot ?? DEFAULT_PROC_ROOT, options.uid);
  const readers = new Map<string, DiscoveredExporter>();
  for (const exporter of exporters) for (const dir of exporter.directories) if (!readers.has(dir)) readers.set(dir, exporter);
  if (readers.size > 1) {
    const each = [...readers].map(([dir, exporter]) => `${dir} (${describeExporter(exporter)})`);
    throw new InputError(
      'ERR_AMBIGUOUS_DIR',
      `node_exporters read different textfile directories: ${listed(each)}; say which with --dir (or $PROMFILE_DIR)`,
    );
  }
  const [found] = readers;
  if (found) {
    const [dir, exporter] = found;
    return { dir, source: 'node_exporter', reason: `from --${FLAG} of the running node_exporter (${describeExporter(exporter)})`, ignored };
  }
  return {
    dir: DEFAULT_TEXTFILE_DIR,
    source: 'default',
    reason: 'the Debian default: no --dir, no $PROMFILE_DIR and no running node_exporter with a textfile directory',
    ignored,
  };
}

/** `pid 812, prometheus-node-exporter.service, uid 112`: which process, started by what, running as whom. */
export function describeExporter(exporter: DiscoveredExporter): string {
  return [`pid ${exporter.pid}`, ...(exporter.unit === undefined ? [] : [exporter.unit]), `uid ${exporter.uid}`].join(', ');
}

/** How long `node_exporter --version` may take: it prints and exits at once. */
const VERSION_TIMEOUT_MS = 3000;

/**
 * The version of a running node_exporter (e.g. `1.9.0`), from `--version` of
 * the binary the kernel shows as its /proc/<pid>/exe, and only while that is
 * still root's and writable by nobody else (a path from its command line is
 * never run). Undefined when it does not answer within the timeout.
 */
export function exporterVersion(exporter: DiscoveredExporter, procRoot: string = DEFAULT_PROC_ROOT): string | undefined {
  const binary = join(procRoot, String(exporter.pid), 'exe');
  if (unsafeBinary(binary) !== undefined) return undefined;
  const result = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: VERSION_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
  return /version v?(\d+\.\d+\.\d+)/.exec(`${result.stdout ?? ''}${result.stderr ?? ''}`)?.[1];
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
  const procRoot = options.procRoot ?? DEFAULT_PROC_ROOT;
  const exporters = discoverExporters(procRoot, options.uid);
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
