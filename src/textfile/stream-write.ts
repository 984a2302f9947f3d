// `write` at the speed of the disk: exposition text is validated and written
// family by family as it arrives (format/fast-scan.ts), into the temp file
// that replaces the target. Memory holds one family at a time; what must be
// kept longer goes to disk:
// - families out of name order are put in order by copying file ranges at the end;
// - for a family that resumes later (only the whole input, parsed strictly,
//   can say what it means), the input so far is recovered from the output
//   (families the writer copied unchanged) and from a spool file (the rest).
// The directory check needs only the families that share a name with another
// file, read back from the same places once the input has ended; every other
// family takes part in it by its name and type alone.
import { closeSync, ftruncateSync, openSync, readSync, unlinkSync, writeSync, writevSync } from 'node:fs';
import { ExpositionError } from '../errors.js';
import { FastScanner, type FastBlock, type FastScanOptions } from '../format/fast-scan.js';
import { scanFile, splitFile } from '../format/fast-file.js';
import { countSeries, familyStub } from '../format/model.js';
import { parseExposition, type ReadOptions } from '../format/parse.js';
import { compareNames } from '../format/names.js';
import { judgeByProfile } from '../format/profile.js';
import { renderChunks } from '../format/render.js';
import type { MetricFamily, MetricType, Problem } from '../format/types.js';
import { readTextfile, tempPathFor } from './files.js';
import { checkAgainstDirectory, type Neighbours } from './neighbours.js';
import { givenProfile, withLockedTarget, type PipelineOptions, type Reading } from './pipeline.js';

export interface StreamWriteOptions extends PipelineOptions, Omit<ReadOptions, 'profile'> {
  /** Write a file with no samples. Default false: empty input is refused. */
  readonly allowEmpty?: boolean;
  /** Names the input in messages (e.g. `<stdin>`). */
  readonly source?: string;
  /** Receives what the writer normalized, once the file is written. */
  readonly onNotice?: (problem: Problem) => void;
  /** Sees each family block as it is scanned (the CLI's write-time warnings). */
  readonly onBlock?: (block: FastBlock) => void;
}

export interface StreamWriteResult {
  readonly path: string;
  /** Families with samples, and samples, in the file written. */
  readonly families: number;
  readonly series: number;
  /** What the directory check could not judge (another file too large to read). */
  readonly warnings: readonly Problem[];
}

/**
 * The input, resumable: each `for await` over it continues where the last
 * one stopped (leaving a loop early must not close stdin, which the
 * whole-file parse may still need).
 */
class Input {
  private readonly iterator: AsyncIterator<Uint8Array | string>;

  constructor(source: AsyncIterable<Uint8Array | string>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      const next = await this.iterator.next();
      if (next.done === true) return;
      yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    }
  }
}

/**
 * Validate exposition text from `input` and make it the whole content of
 * `path`, atomically and under its lock: the same result and the same errors
 * as parseExposition + updateTextfile, without holding the text in memory.
 */
export async function writeExpositionStream(
  path: string,
  source: AsyncIterable<Uint8Array | string>,
  options: StreamWriteOptions = {},
): Promise<StreamWriteResult> {
  const input = new Input(source);
  let started = false;
  try {
    return await withLockedTarget(path, options, async (target) => {
      started = true;
      let counts = { families: 0, series: 0 };
      let file: BlockFile | undefined;
      try {
        await target.commit(async (handle) => {
          file = new BlockFile(handle.fd, target.at);
          const written = await streamInto(file, target.at, input, options, target.neighbours);
          counts = written.counts;
          return written.reading;
        });
      } finally {
        file?.close();
      }
      return { path, ...counts, warnings: target.neighbours?.unread ?? [] };
    });
  } catch (error) {
    // Bad input is reported before a missing directory or a busy lock, as when the input was read first.
    if (!started && !(error instanceof ExpositionError)) await validateOnly(input, options);
    throw error;
  }
}

/** Read all of `input` and throw its first problem, writing nothing. */
async function validateOnly(input: Input, options: StreamWriteOptions): Promise<void> {
  const scanner = new FastScanner(scanOptions(options), () => undefined);
  const taken: Uint8Array[] = [];
  for await (const chunk of input) {
    const bytes = chunk;
    taken.push(bytes);
    if (!scanner.push(bytes)) break;
  }
  const result = scanner.end();
  if (result.wholeFile) {
    for await (const chunk of input) taken.push(chunk);
    parseStrictly(Buffer.concat(taken), options);
  } else if (result.error) throw new ExpositionError(result.error, options.source);
}

function strictOptions(options: StreamWriteOptions, profile = givenProfile(options.profile)): ReadOptions & { source?: string } {
  const { stripTimestamps, allowMissingFinalNewline, source } = options;
  return {
    ...(stripTimestamps === undefined ? {} : { stripTimestamps }),
    ...(allowMissingFinalNewline === undefined ? {} : { allowMissingFinalNewline }),
    ...(source === undefined ? {} : { source }),
    ...(profile === undefined ? {} : { profile }),
  };
}

/** The scanner judges by the given profile, and a block it refuses again by one found on demand. */
function scanOptions(options: StreamWriteOptions): FastScanOptions {
  const retry = typeof options.profile === 'function' ? { retryProfile: options.profile } : {};
  return { ...strictOptions(options), ...retry };
}

/** The whole input, parsed strictly and judged as the whole-input `write` judges it. */
function parseStrictly(bytes: Uint8Array, options: StreamWriteOptions, onNotice?: (notices: Problem[]) => void): MetricFamily[] {
  return judgeByProfile(options.profile, (profile) => {
    const notices: Problem[] = [];
    const families = parseExposition(bytes, { ...strictOptions(options, profile), onNotice: (notice) => notices.push(notice) });
    onNotice?.(notices);
    return families;
  });
}

/** What streamInto wrote, and how the directory check reads it. */
interface Streamed {
  readonly counts: { families: number; series: number };
  readonly reading: Reading;
}

async function streamInto(
  file: BlockFile,
  at: string,
  input: Input,
  options: StreamWriteOptions,
  neighbours: Neighbours | undefined,
): Promise<Streamed> {
  const scanner = new FastScanner(scanOptions(options), (block) => {
    options.onBlock?.(block);
    file.add(block);
  });
  for await (const chunk of input) if (!scanner.push(chunk)) break;
  const result = scanner.end();
  if (result.wholeFile) return file.rewriteStrictly(scanner.pending, input, options, neighbours);
  if (result.error) throw new ExpositionError(result.error, options.source);
  const reading: Reading = (others, profile) => ({
    families: file.familiesFor(others.names, strictOptions(options, profile)),
    before: () => currentFamilies(at, others.names, strictOptions(options, profile)),
  });
  if (neighbours) await checkAgainstDirectory(at, neighbours, options.profile, reading, options.collectorNames);
  refuseEmpty(result.series, options);
  file.finish();
  for (const notice of result.notices) options.onNotice?.(notice);
  return { counts: { families: result.families, series: result.series }, reading };
}

/** The target's families as they are now (the `wanted` ones in full), or undefined when it is absent or unreadable as exposition. */
async function currentFamilies(path: string, wanted: ReadonlySet<string>, read: ReadOptions): Promise<MetricFamily[] | undefined> {
  const bytes = await readTextfile(path);
  if (bytes === undefined) return undefined;
  const scanned = scanFile(bytes, read);
  if (scanned !== undefined) {
    const { parsed, copied } = splitFile(scanned.blocks, wanted);
    return [...parsed, ...[...copied.values()].map((entry) => entry.stub)].sort(byName);
  }
  try {
    return parseExposition(bytes, read);
  } catch (error) {
    if (error instanceof ExpositionError) return undefined;
    throw error;
  }
}

const byName = (a: MetricFamily, b: MetricFamily): number => compareNames(a.name, b.name);

function refuseEmpty(series: number, options: StreamWriteOptions): void {
  if (series === 0 && !options.allowEmpty) {
    throw new ExpositionError({
      severity: 'error',
      rule: 'empty',
      message: 'nothing to write: no samples (pass --allow-empty to write an empty file)',
    });
  }
}

const BATCH_BYTES = 1 << 20;
const BATCH_PARTS = 1024;

/** Bytes appended at explicit offsets, batched into writev calls of about 1 MiB. */
class Appender {
  offset = 0;
  private parts: Uint8Array[] = [];
  private size = 0;

  constructor(readonly fd: number) {}

  append(parts: readonly Uint8Array[]): void {
    for (const part of parts) {
      if (part.length === 0) continue;
      this.parts.push(part);
      this.size += part.length;
    }
    if (this.size >= BATCH_BYTES || this.parts.length >= BATCH_PARTS) this.flush();
  }

  /** Where the next byte appended will land. */
  get end(): number {
    return this.offset + this.size;
  }

  flush(): void {
    const parts = this.parts;
    while (parts.length > 0) {
      let written = writevSync(this.fd, parts, this.offset);
      this.offset += written;
      // A short write (rare) resumes where it stopped.
      while (parts.length > 0 && written >= (parts[0] as Uint8Array).length) written -= (parts.shift() as Uint8Array).length;
      if (written > 0) parts[0] = (parts[0] as Uint8Array).subarray(written);
    }
    this.parts = parts;
    this.size = 0;
  }

  restart(): void {
    this.parts = [];
    this.size = 0;
    this.offset = 0;
  }
}

interface Placed {
  readonly name: string;
  readonly start: number;
  readonly length: number;
}

/** Where the input so far can be read back: a range of the output, or of the spool. */
interface Recovered {
  readonly fromSpool: boolean;
  readonly start: number;
  readonly length: number;
}

/** The families of one block, by name and type, and where its input can be read back. */
interface Named {
  readonly families: ReadonlyArray<readonly [string, MetricType]>;
  readonly recovered: number;
}

/** The temp file, filled block by block in input order. */
class BlockFile {
  private readonly out: Appender;
  private readonly placed: Placed[] = [];
  private sorted = true;
  private recovered: Recovered[] = [];
  private readonly named: Named[] = [];
  private spool: Appender | undefined;

  constructor(
    fd: number,
    private readonly path: string,
  ) {
    this.out = new Appender(fd);
  }

  add(block: FastBlock): void {
    const start = this.out.end;
    this.out.append(block.output);
    const length = this.out.end - start;
    if (block.identical) this.recovered.push({ fromSpool: false, start, length });
    else {
      const spool = (this.spool ??= new Appender(openSpool(this.path)));
      const spoolStart = spool.end;
      spool.append(block.raw);
      this.recovered.push({ fromSpool: true, start: spoolStart, length: spool.end - spoolStart });
    }
    const families = block.parsed?.map((family) => [family.name, family.type] as const) ?? [];
    if (block.parsed === undefined && block.name !== undefined) families.push([block.name, block.type ?? 'untyped']);
    if (families.length > 0) this.named.push({ families, recovered: this.recovered.length - 1 });
    if (length === 0 || block.name === undefined) return;
    const previous = this.placed[this.placed.length - 1];
    if (previous && compareNames(previous.name, block.name) > 0) this.sorted = false;
    this.placed.push({ name: block.name, start, length });
  }

  /** The families written so far: those named `wanted` parsed again from their input, the others as stubs. */
  familiesFor(wanted: ReadonlySet<string>, read: ReadOptions): MetricFamily[] {
    this.out.flush();
    this.spool?.flush();
    const families: MetricFamily[] = [];
    for (const block of this.named) {
      if (block.families.some(([name]) => wanted.has(name))) families.push(...parseExposition(this.inputOf(block.recovered), read));
      else for (const [name, type] of block.families) families.push(familyStub(name, type));
    }
    return families.sort(byName);
  }

  private inputOf(index: number): Uint8Array {
    const range = this.recovered[index] as Recovered;
    return readRange(range.fromSpool ? (this.spool as Appender).fd : this.out.fd, range.start, range.length);
  }

  /** All written; families put in name order when they came in another. */
  finish(): void {
    this.out.flush();
    if (this.sorted) return;
    const order = [...this.placed].sort((a, b) => compareNames(a.name, b.name));
    const scratch = openSpool(this.path);
    // One buffer for every copy: a buffer per range would be garbage V8 does not count, and RSS would grow with the file.
    const buffer = Buffer.allocUnsafeSlow(BATCH_BYTES);
    const moved = new Map<number, number>();
    try {
      let end = 0;
      for (const block of order) {
        moved.set(block.start, end);
        end = copyRange(this.out.fd, block.start, block.length, scratch, end, buffer);
      }
      copyRange(scratch, 0, end, this.out.fd, 0, buffer);
    } finally {
      closeSync(scratch);
    }
    // The input of a block copied unchanged is read back from its new place (the directory is judged again before the rename).
    this.recovered = this.recovered.map((range) => (range.fromSpool ? range : { ...range, start: moved.get(range.start) ?? range.start }));
  }

  /** The scanner gave up: parse the whole input strictly and write its rendering instead. */
  async rewriteStrictly(
    pending: readonly Uint8Array[],
    input: Input,
    options: StreamWriteOptions,
    neighbours: Neighbours | undefined,
  ): Promise<Streamed> {
    this.out.flush();
    this.spool?.flush();
    const parts: Uint8Array[] = this.recovered.map((_, index) => this.inputOf(index));
    parts.push(...pending);
    for await (const chunk of input) parts.push(chunk);
    let notices: Problem[] = [];
    const families = parseStrictly(Buffer.concat(parts), options, (found) => (notices = found));
    const path = this.path;
    const reading: Reading = (others, profile) => ({
      families,
      before: () => currentFamilies(path, others.names, strictOptions(options, profile)),
    });
    if (neighbours) await checkAgainstDirectory(path, neighbours, options.profile, reading, options.collectorNames);
    const series = countSeries(families);
    refuseEmpty(series, options);
    ftruncateSync(this.out.fd, 0);
    this.out.restart();
    for (const text of renderChunks(families)) this.out.append([Buffer.from(text)]);
    this.out.flush();
    for (const notice of notices) options.onNotice?.(notice);
    return { counts: { families: families.length, series }, reading };
  }

  close(): void {
    if (this.spool) closeSync(this.spool.fd);
    this.spool = undefined;
  }
}

/** A scratch file beside the target, unlinked at once: the kernel frees it when it is closed, even after a crash. */
function openSpool(path: string): number {
  const name = tempPathFor(path);
  const fd = openSync(name, 'wx+', 0o600);
  try {
    unlinkSync(name);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return fd;
}

function readRange(fd: number, start: number, length: number): Uint8Array {
  const buffer = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const read = readSync(fd, buffer, done, length - done, start + done);
    if (read === 0) throw new Error(`short read at ${start + done}`);
    done += read;
  }
  return buffer;
}

/** Copy `length` bytes at `start` of `from` to `at` of `to`, through `buffer`; returns where the copy ends. */
function copyRange(from: number, start: number, length: number, to: number, at: number, buffer: Buffer): number {
  for (let done = 0; done < length;) {
    const read = readSync(from, buffer, 0, Math.min(buffer.length, length - done), start + done);
    if (read === 0) throw new Error(`short read at ${start + done}`);
    for (let written = 0; written < read;) written += writeSync(to, buffer, written, read - written, at + done + written);
    done += read;
  }
  return at + length;
}
