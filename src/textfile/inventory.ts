// What is in a textfile directory, as node_exporter and a janitor see it:
// the *.prom files it reads (in its order), the temp files writers left
// behind, and lock files. Listing only stats: nothing here opens an entry.
import { lstat, readdir, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join } from 'node:path';

export type EntryKind = 'textfile' | 'temp' | 'lock' | 'other';

export interface DirectoryEntry {
  readonly name: string;
  readonly path: string;
  readonly kind: EntryKind;
  /** lstat of the entry itself. */
  readonly link: Stats;
  /** stat through a symlink (what node_exporter opens); undefined when the link dangles. */
  readonly target: Stats | undefined;
  readonly symlink: boolean;
  /** The name is not valid UTF-8: `name` and `path` show it escaped (\\xHH), and cannot be opened. */
  readonly undecodable?: true;
}

/**
 * Temp names writers leave when they die between write and rename:
 * promfile's own `NAME.prom.tmp-<hex>`, write-file-atomic's `NAME.prom.<digits>`, the shell's `NAME.prom.$$`,
 * Python prometheus_client's write_to_textfile `NAME.prom.<pid>.<thread id>`, Go client_golang's
 * WriteToTextfile (os.CreateTemp with the file name as pattern) `NAME.prom<digits>`, and `NAME.prom.tmp<anything>`.
 * node_exporter ignores them (they don't end in .prom).
 */
const TEMP_NAME = /\.prom(?:\d+|\.(?:\d+(?:\.\d+)?|tmp.*|\$\$|new))$/;
/** promfile's lock files (`.<name>.prom.lock`, run's `.<name>.prom.run.lock`) (`.takeover`: guards of versions before 0.2). */
const LOCK_NAME = /^\..+\.prom\.(?:run\.)?lock(?:\.takeover)?$/;

export function classifyName(name: string): EntryKind {
  if (name.endsWith('.prom')) return 'textfile';
  if (LOCK_NAME.test(name)) return 'lock';
  if (TEMP_NAME.test(name)) return 'temp';
  return 'other';
}

/** The directory's entries sorted as node_exporter reads them (byte order of names); every entry, whatever bytes its name holds. */
export async function listDirectory(dir: string): Promise<DirectoryEntry[]> {
  const raw = (await readdir(dir, { encoding: 'buffer' })).sort((a, b) => Buffer.compare(a, b));
  const entries: DirectoryEntry[] = [];
  for (const bytes of raw) {
    const decoded = bytes.toString('utf8');
    const undecodable = !Buffer.from(decoded).equals(bytes);
    const name = undecodable ? escapedBytes(bytes) : decoded;
    const path = join(dir, name);
    const real = undecodable ? Buffer.concat([Buffer.from(`${dir.replace(/\/$/, '')}/`), bytes]) : path;
    const link = await lstat(real).catch(() => undefined);
    if (!link) continue; // removed while we looked
    const symlink = link.isSymbolicLink();
    const target = symlink ? await stat(real).catch(() => undefined) : link;
    entries.push({ name, path, kind: classifyName(name), link, target, symlink, ...(undecodable ? { undecodable: true } : {}) });
  }
  return entries;
}

/** Printable ASCII as it is, every other byte as \\xHH: a name that is safe on a terminal whatever it holds. */
export function escapedBytes(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes)
    out += byte >= 0x20 && byte < 0x7f && byte !== 0x5c ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
  return out;
}

/** Would node_exporter running as some non-root user be able to read a file (or search a directory) with these stats? */
export function readableByNonRoot(info: Stats, bits: 'r' | 'rx' = 'r'): boolean {
  const need = bits === 'r' ? 4 : 5;
  const other = info.mode & 7;
  const group = (info.mode >> 3) & 7;
  const owner = (info.mode >> 6) & 7;
  if ((other & need) === need) return true;
  // Readable by its owner or group, when that is a non-root account (e.g. the prometheus user).
  if (info.uid !== 0 && (owner & need) === need) return true;
  return info.gid !== 0 && (group & need) === need;
}

/** `3s`, `5m`, `2h5m`, `4d3h`: a short age for people. */
export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
}

/** The permission bits in octal, e.g. `0644`. */
export function formatMode(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}
