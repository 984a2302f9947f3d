// ls's rows: each textfile of a directory with what it holds and whether
// node_exporter accepts it. Never blocks: a file is read non-blocking and
// judged on its descriptor (it may have changed since the listing).
import type { Stats } from 'node:fs';
import { readlink, stat } from 'node:fs/promises';
import { errnoOf, messageOf } from '../errors.js';
import { countSeries } from '../format/model.js';
import { readExposition } from '../format/parse.js';
import { describeFileKind, readRegularFile } from '../textfile/files.js';
import { formatMode, readableByNonRoot, type DirectoryEntry } from '../textfile/inventory.js';
import { TEMP_GRACE_MS, untrustedLink } from './check.js';
import { listTextfileDirectory } from './gc.js';

export interface FileRow {
  name: string;
  path: string;
  series?: number;
  families?: number;
  ageMs?: number;
  size?: number;
  uid?: number;
  gid?: number;
  mode?: string;
  status: 'ok' | 'invalid' | 'unreadable' | 'not-a-file' | 'dangling-symlink' | 'untrusted-symlink';
  /** Why the status is not ok: the first error's line and rule, the errno, the file's kind. */
  problem?: string;
  symlinkTo?: string;
}

export interface Listing {
  readonly rows: FileRow[];
  /** Temp files older than the grace period (a writer died before renaming them). */
  readonly leftovers: number;
}

/** One row per *.prom file of `dir`, in node_exporter's order, and the count of leftover temp files. */
export async function listTextfiles(dir: string, now: number, uid: number | undefined = process.getuid?.()): Promise<Listing> {
  const entries = await listTextfileDirectory(dir);
  const dirInfo = await stat(dir).catch(() => undefined);
  const trust = { ...(dirInfo ? { dirInfo } : {}), uid };
  const rows = await Promise.all(entries.filter((entry) => entry.kind === 'textfile').map((entry) => describeTextfile(entry, now, trust)));
  const leftovers = entries.filter((entry) => entry.kind === 'temp' && now - entry.link.mtimeMs > TEMP_GRACE_MS).length;
  return { rows, leftovers };
}

/** The row of one *.prom entry; a link another account may have planted is not read through (see untrustedLink). */
export async function describeTextfile(
  entry: DirectoryEntry,
  now: number,
  trust: { readonly dirInfo?: Stats; readonly uid: number | undefined },
): Promise<FileRow> {
  const row: FileRow = { name: entry.name, path: entry.path, status: 'ok' };
  if (entry.undecodable) return { ...row, status: 'invalid', problem: 'file name not valid UTF-8' };
  if (entry.symlink) {
    row.symlinkTo = await readlink(entry.path).catch(() => '?');
    const why = untrustedLink(entry.link, trust.dirInfo, trust.uid);
    if (why) return { ...row, status: 'untrusted-symlink', problem: `${why}: not read` };
  }
  const info = entry.target;
  if (!info) return { ...row, status: 'dangling-symlink' };
  Object.assign(row, { ageMs: Math.round(now - info.mtimeMs), size: info.size, uid: info.uid, gid: info.gid, mode: formatMode(info.mode) });
  if (!info.isFile()) return { ...row, status: 'not-a-file', problem: describeFileKind(info) };
  const bytes = await readRegularFile(entry.path, { follow: true }).catch((error: unknown) => ({ error }));
  if ('error' in bytes) return { ...row, status: 'unreadable', problem: errnoOf(bytes.error) ?? messageOf(bytes.error) };
  const { families, problems } = readExposition(bytes);
  row.families = families.length;
  row.series = countSeries(families);
  const error = problems.find((problem) => problem.severity === 'error');
  if (error) Object.assign(row, { status: 'invalid', problem: `${error.line === undefined ? '' : `line ${error.line}: `}${error.rule}` });
  else if (!readableByNonRoot(info)) Object.assign(row, { status: 'unreadable', problem: 'a non-root node_exporter cannot read it' });
  return row;
}
