// Whether a process that runs node_exporter may choose where promfile writes.
// Any account can start a process that calls itself node_exporter and names
// any directory, so only what the kernel vouches for counts, and only facts
// the process' own account cannot forge: the binary /proc/PID/exe points to,
// the ids in /proc/PID/status, the cgroup systemd put it in, and whether that
// account can even read the directory it names.
import { readFileSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, join } from 'node:path';

/** Below this uid, accounts are system accounts (root, prometheus, ...) on Debian and most distributions. */
const FIRST_REGULAR_UID = 1000;

/** The names node_exporter's binary goes by (Debian's and upstream's). */
export const EXPORTER_NAME = /^(?:prometheus-)?node[_-]exporter$/;

/** A systemd unit that runs node_exporter: prometheus-node-exporter.service, node_exporter.service, ... */
const EXPORTER_UNIT = /node[_-]?exporter/i;

/** A process the rules trust, as the kernel shows it. */
export interface TrustedProcess {
  readonly pid: number;
  readonly uid: number;
  /** Its binary, as /proc/<pid>/exe shows it. */
  readonly executable: string;
  /** The systemd system unit it runs in (e.g. prometheus-node-exporter.service), if any. */
  readonly unit?: string;
}

export type Judgement = TrustedProcess | { readonly pid: number; readonly reason: string; readonly named: boolean };

/** A process' ids: real, effective, saved and filesystem uids and gids, and its supplementary groups. */
interface Ids {
  readonly uids: number[];
  readonly gids: number[];
  readonly groups: number[];
}

/**
 * The trust rules: the binary (/proc/PID/exe, not argv[0]) is named
 * node_exporter or prometheus-node-exporter, belongs to root and is writable
 * by nobody else; the process is not set-id; and it runs as root, as the
 * caller, or as a system account inside a node_exporter systemd system unit
 * that can read every directory it names.
 */
export function judgeProcess(dir: string, pid: number, caller: number | undefined, directories: readonly string[]): Judgement {
  const executable = readLink(join(dir, 'exe'))?.replace(/ \(deleted\)$/, '');
  if (executable === undefined) return { pid, named: false, reason: 'its executable (/proc/PID/exe) cannot be read' };
  const named = EXPORTER_NAME.test(basename(executable));
  const refuse = (reason: string): Judgement => ({ pid, named, reason: `${reason} (executable ${executable})` });
  if (!named) return refuse('its executable is not named node_exporter or prometheus-node-exporter');
  const unsafe = unsafeBinary(join(dir, 'exe'));
  if (unsafe !== undefined) return refuse(unsafe);
  const ids = readIds(join(dir, 'status'));
  if (!ids) return refuse('its user ids (/proc/PID/status) cannot be read');
  if (new Set(ids.uids).size !== 1 || new Set(ids.gids).size !== 1) return refuse('it runs set-id (real and effective ids differ)');
  const uid = ids.uids[0] as number;
  const unit = systemUnit(readCgroup(join(dir, 'cgroup')));
  const trusted = { pid, uid, executable, ...(unit?.name === undefined ? {} : { unit: unit.name }) };
  if (uid === 0 || uid === caller) return trusted;
  if (uid >= FIRST_REGULAR_UID) return refuse(`it runs as uid ${uid}, neither root, a system account nor you`);
  // A system account's own code (a web application as www-data) runs in that account's unit or a session.
  if (unit?.name === undefined)
    return { pid, named, reason: `it runs as uid ${uid} outside any systemd system unit (cgroup ${unit?.path ?? 'unknown'})` };
  if (!EXPORTER_UNIT.test(unit.name))
    return { pid, named, reason: `it runs as uid ${uid} in ${unit.name}, not in a node_exporter systemd unit` };
  const unread = directories.find((path) => !canRead(path, ids));
  if (unread !== undefined)
    return { pid, named, reason: `its account (uid ${uid}) cannot read ${unread}, so it is not the node_exporter that reads it` };
  return trusted;
}

/** Why the binary behind `exe` is not to be trusted (or run): not root's, or writable by others; undefined when it is fine. */
export function unsafeBinary(exe: string): string | undefined {
  let binary: Stats;
  try {
    binary = statSync(exe);
  } catch {
    return 'its executable cannot be examined';
  }
  if (binary.uid !== 0) return `its executable belongs to uid ${binary.uid}, not root`;
  if ((binary.mode & 0o022) !== 0) return 'its executable is writable by group or others';
  return undefined;
}

/** The cgroup path of a process: the cgroup v2 line, else systemd's v1 hierarchy. */
function readCgroup(path: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  const line = lines.find((entry) => entry.startsWith('0::')) ?? lines.find((entry) => entry.includes(':name=systemd:'));
  return line?.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
}

/** The system unit of a cgroup path under system.slice (only root and systemd place processes there). */
function systemUnit(cgroup: string | undefined): { path: string | undefined; name?: string } | undefined {
  if (cgroup === undefined) return undefined;
  const segments = cgroup.split('/').filter((segment) => segment !== '');
  const name = segments[0] === 'system.slice' ? segments.find((segment) => segment.endsWith('.service')) : undefined;
  return name === undefined ? { path: cgroup } : { path: cgroup, name };
}

/**
 * Whether an account with these ids can list `path` (read and search it, and
 * search every directory above it), by mode bits and owners alone: ACLs and
 * capabilities other than root's are not considered.
 */
function canRead(path: string, ids: Ids): boolean {
  const uid = ids.uids[0] as number;
  const gids = new Set([ids.gids[0] as number, ...ids.groups]);
  try {
    const real = realpathSync(path);
    if (!statSync(real).isDirectory()) return false;
    if (uid === 0) return true;
    const segments = real.split('/').filter((segment) => segment !== '');
    for (let depth = 0; depth <= segments.length; depth++) {
      const stats = statSync(`/${segments.slice(0, depth).join('/')}`);
      const want = depth === segments.length ? 0o5 : 0o1; // r-x for the directory itself, --x above it
      const shift = stats.uid === uid ? 6 : gids.has(stats.gid) ? 3 : 0;
      if (((stats.mode >> shift) & want) !== want) return false;
    }
    return true;
  } catch {
    return false; // gone, or not ours to examine: not shown to be readable
  }
}

function readIds(statusPath: string): Ids | undefined {
  let text: string;
  try {
    text = readFileSync(statusPath, 'utf8');
  } catch {
    return undefined;
  }
  const ids = (key: string, least: number): number[] | undefined => {
    const raw = new RegExp(`^${key}:[ \\t]*(.*)$`, 'm').exec(text)?.[1]?.trim();
    const values = raw === undefined || raw === '' ? [] : raw.split(/\s+/).map(Number);
    return values.length >= least && values.every(Number.isInteger) ? values : undefined;
  };
  const uids = ids('Uid', 2);
  const gids = ids('Gid', 2);
  return uids && gids ? { uids, gids, groups: ids('Groups', 0) ?? [] } : undefined;
}

export function readLink(link: string): string | undefined {
  try {
    return readlinkSync(link);
  } catch {
    return undefined;
  }
}
