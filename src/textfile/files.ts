// Files in the textfile directory: where they are, reading them, and
// replacing them atomically (a new temp file in the same directory whose name
// does not end in .prom, fsync, chmod, rename, fsync of the directory).
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync, type Stats } from 'node:fs';
import { lstat, mkdir, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { errnoOf, InputError, IoError, PromfileError } from '../errors.js';
import { uniqueSuffix } from './temp-name.js';

/** Where Debian and Ubuntu's prometheus-node-exporter package reads textfiles. */
export const DEFAULT_TEXTFILE_DIR = '/var/lib/prometheus/node-exporter';

const FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;

/** A `.prom` file to write, by directory and name or by explicit path. */
export type TargetSpec = { readonly dir: string; readonly name: string } | { readonly path: string };

/** Resolve `<dir>/<name>.prom` or an explicit `.prom` path, refusing anything that is not a plain name. */
export function resolveTarget(spec: TargetSpec): string {
  if ('path' in spec) {
    if (!spec.path.endsWith('.prom') || basename(spec.path) === '.prom') {
      throw new InputError('ERR_INVALID_FILE_NAME', `--file-path "${spec.path}" must end in .prom (node_exporter reads only *.prom files)`);
    }
    if (spec.path.includes('\u0000')) throw new InputError('ERR_INVALID_FILE_NAME', '--file-path contains a NUL byte');
    return resolve(spec.path);
  }
  const name = spec.name.endsWith('.prom') ? spec.name.slice(0, -'.prom'.length) : spec.name;
  if (!FILE_NAME.test(name)) {
    throw new InputError(
      'ERR_INVALID_FILE_NAME',
      `file name "${spec.name}" is not allowed: use letters, digits, "_", "." and "-", not starting with "." (a name, not a path; use --file-path for paths)`,
    );
  }
  return join(resolve(spec.dir), `${name}.prom`);
}

export interface WriteOptions {
  /** File mode; default 0644 so a non-root node_exporter can read it. */
  readonly mode?: number;
  /** Owner to give the file (needs root). */
  readonly owner?: { readonly uid: number; readonly gid: number };
  /** Create the directory when it is missing. */
  readonly mkdir?: boolean;
}

/** The last steps of a replacement, for the pipeline (textfile/pipeline.ts). */
export interface ReplaceSteps {
  /** Runs once the temp file is complete and synced (still open), right before the rename: a gate that may still refuse. */
  readonly beforeRename?: () => Promise<void>;
  /** Every step but the rename: the temp file is written, checked and removed. */
  readonly dryRun?: boolean;
}

export const DEFAULT_MODE = 0o644;

/** Check the directory exists (or create it with `mkdir`). */
export async function prepareDirectory(dir: string, create = false): Promise<void> {
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) throw new IoError('ERR_DIR_MISSING', `${dir} is not a directory`);
  } catch (error) {
    if (error instanceof PromfileError) throw error;
    if (errnoOf(error) !== 'ENOENT') throw ioError('ERR_READ_FAILED', `cannot access directory ${dir}`, error);
    if (!create) {
      throw new IoError('ERR_DIR_MISSING', `textfile directory ${dir} does not exist`, { cause: error });
    }
    await mkdir(dir, { recursive: true, mode: 0o755 }).catch((cause: unknown) => {
      throw ioError('ERR_WRITE_FAILED', `cannot create directory ${dir}`, cause);
    });
  }
}

/** The file's bytes, or undefined when it does not exist. Refuses symlinks and non-files. */
export async function readTextfile(path: string): Promise<Uint8Array | undefined> {
  try {
    return await readRegularFile(path, { follow: false });
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return undefined;
    if (errnoOf(error) === 'ELOOP') throw symlinkRefused(path);
    if (error instanceof PromfileError) throw error;
    throw ioError('ERR_READ_FAILED', `cannot read ${path}`, error);
  }
}

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY } = constants;

/**
 * Read a file that must be a regular one, without ever blocking: opened with
 * O_NONBLOCK (a FIFO opens at once) and checked with fstat on the open
 * descriptor (no window between a check and the read). Anything else is an
 * ERR_UNSAFE_TARGET naming what is there. `follow: false` refuses a symlink (ELOOP).
 */
export async function readRegularFile(path: string, options: { follow: boolean }): Promise<Uint8Array> {
  const handle = await open(path, readFlags(options));
  try {
    refuseIrregular(path, await handle.stat());
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/**
 * readRegularFile for a file another program fills (a job's
 * $PROMFILE_METRICS): undefined when it is larger than `maxBytes`, and never
 * more read than its size at the fstat, so one that keeps growing cannot
 * make the read unbounded either.
 */
export async function readRegularFileUpTo(path: string, options: { follow: boolean }, maxBytes: number): Promise<Uint8Array | undefined> {
  const handle = await open(path, readFlags(options));
  try {
    const info = await handle.stat();
    refuseIrregular(path, info);
    if (info.size > maxBytes) return undefined;
    const bytes = Buffer.alloc(info.size);
    let filled = 0;
    while (filled < bytes.length) {
      const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, filled);
      if (bytesRead === 0) break; // it shrank since the fstat
      filled += bytesRead;
    }
    return bytes.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

/**
 * readRegularFile without the event loop, for many small files read one after
 * another (the other textfiles of a directory, before every write): four
 * syscalls each instead of four round trips to the thread pool; and for a
 * file read again on demand (the families of a file check streamed).
 */
export function readRegularFileSync(path: string, options: { follow: boolean }): Uint8Array {
  const fd = openSync(path, readFlags(options));
  try {
    refuseIrregular(path, fstatSync(fd));
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Bytes a chunk of readRegularFileChunks holds: big enough that a read costs little, small enough to stay in the CPU's cache. */
const READ_CHUNK = 1 << 20;

/**
 * readRegularFileChunks without the event loop: one buffer, refilled once
 * `onChunk` returns (copy what must be kept); `onChunk` returns false to stop.
 */
export function readRegularFileChunksSync(path: string, options: { follow: boolean }, onChunk: (chunk: Buffer) => boolean): void {
  const fd = openSync(path, readFlags(options));
  try {
    refuseIrregular(path, fstatSync(fd));
    const buffer = Buffer.allocUnsafeSlow(READ_CHUNK);
    for (let read = readSync(fd, buffer, 0, READ_CHUNK, null); read > 0; read = readSync(fd, buffer, 0, READ_CHUNK, null))
      if (!onChunk(buffer.subarray(0, read))) return;
  } finally {
    closeSync(fd);
  }
}

/**
 * readRegularFile in chunks, never the whole file in memory: two buffers
 * refilled in turn, the next read running while `onChunk` looks at the
 * current one. A chunk is valid only during its call (copy what must be
 * kept); `onChunk` returns false to stop reading.
 */
export async function readRegularFileChunks(
  path: string,
  options: { follow: boolean },
  onChunk: (chunk: Buffer) => boolean,
): Promise<void> {
  const handle = await open(path, readFlags(options));
  let reading: Promise<{ bytesRead: number }> | undefined;
  try {
    refuseIrregular(path, await handle.stat());
    let [current, next] = [Buffer.allocUnsafeSlow(READ_CHUNK), Buffer.allocUnsafeSlow(READ_CHUNK)];
    reading = handle.read(current, 0, READ_CHUNK, null);
    for (;;) {
      const { bytesRead } = await reading;
      reading = undefined;
      if (bytesRead === 0) return;
      reading = handle.read(next, 0, READ_CHUNK, null);
      if (!onChunk(current.subarray(0, bytesRead))) return;
      [current, next] = [next, current];
    }
  } finally {
    // A read still running must end before its descriptor closes.
    await reading?.catch(() => undefined);
    await handle.close();
  }
}

const readFlags = (options: { follow: boolean }): number => O_RDONLY | O_NONBLOCK | O_NOCTTY | (options.follow ? 0 : O_NOFOLLOW);

function refuseIrregular(path: string, info: Stats): void {
  if (!info.isFile()) throw new IoError('ERR_UNSAFE_TARGET', `${path} is ${describeFileKind(info)}, not a regular file`);
}

/** What a non-regular file is, in words. */
export function describeFileKind(info: Stats | undefined): string {
  if (!info) return 'unreadable';
  if (info.isFile()) return 'a regular file';
  if (info.isDirectory()) return 'a directory';
  if (info.isSymbolicLink()) return 'a symbolic link';
  if (info.isFIFO()) return 'a FIFO';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  return 'a special file';
}

function symlinkRefused(path: string): IoError {
  return new IoError(
    'ERR_UNSAFE_TARGET',
    `${path} is a symbolic link; promfile does not write through links (remove it or write to the link's target)`,
  );
}

/** A symlink or special file at the target would redirect our write elsewhere. */
async function refuseUnsafeTarget(path: string): Promise<void> {
  const info = await lstat(path).catch(() => undefined);
  if (!info) return;
  if (info.isSymbolicLink()) throw symlinkRefused(path);
  if (!info.isFile()) throw new IoError('ERR_UNSAFE_TARGET', `${path} is ${describeFileKind(info)}, not a regular file`);
}

/** Replace the file atomically: readers see the old or the new content, never a mix. */
export async function writeFileAtomically(
  path: string,
  content: string | Iterable<string | Uint8Array>,
  options: WriteOptions = {},
): Promise<void> {
  await replaceFileAtomically(path, options, (handle) => writeContent(handle, content));
}

/** Write all of `content` into a new temp file. */
export function writeContent(handle: FileHandle, content: string | Iterable<string | Uint8Array>): Promise<void> {
  // writeFile loops until every byte is written; a full disk fails with ENOSPC
  // instead of leaving a short file to be renamed over the good one.
  return typeof content === 'string' ? handle.writeFile(content, 'utf8') : writeChunks(handle, content);
}

/**
 * Replace the file atomically with what `fill` writes into a new temp file
 * (from its start; `fill` must write every byte or throw). A PromfileError
 * from `fill` (bad input) is passed on as it is, after the temp file is removed.
 */
export async function replaceFileAtomically(
  path: string,
  options: WriteOptions & ReplaceSteps,
  fill: (handle: FileHandle) => Promise<void>,
): Promise<void> {
  const dir = dirname(path);
  await prepareDirectory(dir, options.mkdir);
  await refuseUnsafeTarget(path);
  const mode = options.mode ?? DEFAULT_MODE;
  // Same directory (rename is atomic only within one filesystem); the name does
  // not end in .prom, so node_exporter never reads a half-written file.
  const temp = tempPathFor(path);
  let handle: FileHandle | undefined;
  let created = false;
  try {
    // 'wx+' is O_CREAT|O_EXCL (and read: the streaming writer reorders families in it): a new file or nothing. Anything planted at the
    // name, a symlink included, makes the open fail instead of being followed.
    handle = await open(temp, 'wx+', mode);
    created = true;
    await fill(handle);
    if (options.owner) await handle.chown(options.owner.uid, options.owner.gid);
    await handle.chmod(mode); // open's mode was narrowed by the umask
    await handle.sync();
    await options.beforeRename?.(); // the temp file still open: a streamed writer reads its families back from it
    await handle.close();
    handle = undefined;
    if (options.dryRun) {
      await unlink(temp);
      return;
    }
    await rename(temp, path);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    if (created) await unlink(temp).catch(() => undefined); // never what someone else put there
    if (error instanceof PromfileError) throw error;
    throw ioError('ERR_WRITE_FAILED', `cannot write ${path}`, error);
  }
  await syncDirectory(dir);
}

/** A temp name beside `path`: same filesystem, and not a .prom name node_exporter would read. */
export function tempPathFor(path: string): string {
  return `${path}.tmp-${uniqueSuffix()}`;
}

const CHUNK_BYTES = 1 << 20;

/**
 * Append chunks through writeFile (which loops until all is written), batched
 * to about 1 MiB per call; bytes (copied from a checked file) go by writev,
 * without being copied again.
 */
async function writeChunks(handle: FileHandle, chunks: Iterable<string | Uint8Array>): Promise<void> {
  let pending: Array<string | Uint8Array> = [];
  let size = 0;
  const flush = async (): Promise<void> => {
    if (pending.every((chunk) => typeof chunk === 'string')) await handle.writeFile(pending.join(''), 'utf8');
    else
      await writeAll(
        handle,
        pending.map((chunk) => (typeof chunk === 'string' ? Buffer.from(chunk) : chunk)),
      );
    pending = [];
    size = 0;
  };
  for (const chunk of chunks) {
    pending.push(chunk);
    size += chunk.length;
    if (size >= CHUNK_BYTES || pending.length >= MAX_PARTS) await flush();
  }
  if (pending.length > 0) await flush();
}

/** Parts per writev: at most IOV_MAX on Linux. */
const MAX_PARTS = 1024;

/** writev until every byte is written: a short write resumes where it stopped. */
async function writeAll(handle: FileHandle, parts: Uint8Array[]): Promise<void> {
  while (parts.length > 0) {
    let { bytesWritten } = await handle.writev(parts);
    if (bytesWritten === 0) throw new Error('write made no progress');
    while (parts.length > 0 && bytesWritten >= (parts[0] as Uint8Array).length) bytesWritten -= (parts.shift() as Uint8Array).length;
    if (bytesWritten > 0) parts[0] = (parts[0] as Uint8Array).subarray(bytesWritten);
  }
}

/** Make the rename durable. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on directories; the rename itself is done.
  } finally {
    await handle.close();
  }
}

/** What removeTextfile would remove: a symlink may go (the link, never its target); a directory or device may not. */
export function assertRemovable(path: string, info: Stats): true {
  if (!info.isFile() && !info.isSymbolicLink()) throw new IoError('ERR_UNSAFE_TARGET', `${path} is not a regular file`);
  return true;
}

/** Delete the file; true when it existed. */
export async function removeTextfile(path: string): Promise<boolean> {
  const info = await lstat(path).catch(() => undefined);
  if (info) assertRemovable(path, info);
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return false;
    throw ioError('ERR_WRITE_FAILED', `cannot remove ${path}`, error);
  }
}

const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EISDIR: 'is a directory',
};

export function ioError(code: 'ERR_READ_FAILED' | 'ERR_WRITE_FAILED', what: string, cause: unknown): IoError {
  const errno = errnoOf(cause);
  const reason = (errno && ERRNO_TEXT[errno]) ?? (cause instanceof Error ? cause.message : String(cause));
  return new IoError(errno === 'ENOENT' && code === 'ERR_WRITE_FAILED' ? 'ERR_DIR_MISSING' : code, `${what}: ${reason}`, { cause });
}
