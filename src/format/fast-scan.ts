// The byte-level fast path: validate and render exposition text as it
// arrives, family by family, at close to the speed of copying it.
//
// The input is cut into blocks, one per family in the order node_exporter's
// parser assigns lines to families (blank and comment lines ride along with
// the block they fall in). A block whose lines all have the common shapes —
// `# HELP`, `# TYPE` counter/gauge/untyped, `name{k="v",...} value` — is
// checked on bytes and rendered by copying its input; any other block is
// handed whole to the strict parser (readSegment), which reports problems
// with the lines of the whole input. So correctness stays with the strict
// parser: the fast path only takes what it recognises exactly. A line with
// invalid UTF-8 sends its block there too, with the line's number: the
// strict parser's rule decides (an error in a sample, a warning in HELP).
//
// Two modes serve callers that need less (ScanMode): `check` keeps no output
// (no ranges to copy, no values respelled), and `reusedChunks` lets the caller
// read a file into one buffer again and again (a file read whole costs its
// size in fresh pages, which on this kind of machine was a third of a check).
//
// A family that resumes after another began (non-contiguous samples, a late
// HELP or TYPE), or a gauge histogram, needs the whole input regrouped: the
// scanner stops and says so (`wholeFile`), and the caller parses everything
// strictly.
import { isUtf8 } from 'node:buffer';
import { ByteRuns } from './byte-runs.js';
import { asBuffer, ChunkLines } from './lines.js';
import {
  Byte,
  compareRanges,
  invalidUtf8Lines,
  isBlank,
  nameEnd,
  NameKind,
  readDirective,
  skipBlanks,
  startsWith,
  typeWord,
} from './lex.js';
import { isCanonicalHelp, LineCursor, MAX_CANONICAL_LABELS, ScanError } from './scan.js';
import { canonicalValue, isValidValue } from './number.js';
import { readSegment, type ReadOptions, type SegmentResult } from './parse.js';
import { familyStub } from './model.js';
import { compareNames } from './names.js';
import { owningFamily } from './shape.js';
import { renderFamily } from './render.js';
import { SeriesTable } from './series-table.js';
import type { Profile } from './profile.js';
import type { MetricFamily, MetricType, Problem } from './types.js';
import { identityOrder, validateFamilies } from './validate.js';

/** One family's share of the input and of the output, in input order. */
export interface FastBlock {
  /** The family; undefined for lines before the first family. */
  readonly name: string | undefined;
  /** Its canonical text (empty when it has no samples). */
  readonly output: readonly Uint8Array[];
  /** Its input lines, exactly (each piece holds whole lines). */
  readonly raw: readonly Uint8Array[];
  /** The input line number of its first line. */
  readonly line: number;
  /** Output and input are the same bytes. */
  readonly identical: boolean;
  readonly series: number;
  /** The family's type (for a block the strict parser read: that of its first family). */
  readonly type: MetricType | undefined;
  /** The families the strict parser read from it; undefined for a block checked on bytes. */
  readonly parsed: readonly MetricFamily[] | undefined;
}

export interface FastResult {
  /** What parseExposition would throw: the first error (warnings are notices, exposed as given). */
  readonly error: Problem | undefined;
  /** Notices in the order parseExposition reports them (meaningful when there is no error). */
  readonly notices: readonly Problem[];
  /** The scanner stopped: only a strict parse of the whole input can decide. */
  readonly wholeFile: boolean;
  /** Families with samples, and samples. */
  readonly families: number;
  readonly series: number;
  /** Blocks handed to the strict parser (for tests and the benchmark's phase split). */
  readonly strictBlocks: number;
}

/** What the caller needs of the scan beyond the verdict. */
export interface ScanMode {
  /**
   * The caller refills a chunk once push returns: the scanner copies what it
   * still holds of it, and a block's `raw` is valid only during onBlock.
   */
  readonly reusedChunks?: boolean;
  /** Only the verdict and the blocks' lines are wanted: `output` stays empty and values are checked, not respelled. */
  readonly checkOnly?: boolean;
}

interface FamilyState {
  readonly name: string;
  readonly bytes: Uint8Array;
  type: MetricType | undefined;
  /** Its block has ended. */
  closed: boolean;
}

const HELP_PREFIX = Buffer.from('# HELP ', 'latin1');
const TYPE_PREFIX = Buffer.from('# TYPE ', 'latin1');
const FAST_TYPES: Partial<Record<MetricType, Uint8Array>> = {
  counter: Buffer.from('counter', 'latin1'),
  gauge: Buffer.from('gauge', 'latin1'),
  untyped: Buffer.from('untyped', 'latin1'),
};

/** Stages of a fast block: what may still come. */
const enum Stage {
  Start,
  AfterHelp,
  AfterType,
  Samples,
}

const enum Phase {
  Parse,
  Validation,
  CrossFamily,
}

/** The blocking problem parseExposition would pick: errors first, then by line, then in the order found. */
class Verdict {
  private parseBest: { problem: Problem; key: number[] } | undefined;
  private best: { problem: Problem; key: number[] } | undefined;
  private seq = 0;

  add(problem: Problem, phase: Phase): void {
    // Only errors refuse the input: a warning is exposed as given (a notice here).
    if (problem.severity !== 'error') return;
    const key = [0, problem.line ?? Infinity, phase, this.seq++];
    if (phase === Phase.Parse && (!this.parseBest || before(key, this.parseBest.key))) this.parseBest = { problem, key };
    if (!this.best || before(key, this.best.key)) this.best = { problem, key };
  }

  /** A syntax error ends the parse: problems found in validation no longer count. */
  stop(): void {
    this.best = this.parseBest;
  }

  get first(): Problem | undefined {
    return this.best?.problem;
  }
}

function before(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] as number) < (b[i] as number);
  return false;
}

export interface FastScanOptions extends ReadOptions {
  /**
   * The rules to judge a block by when the given ones refuse it: judgeByProfile's
   * second judgement, made block by block (the rules that differ by version are
   * rules of a line), so the input need not be held to judge it again.
   */
  readonly retryProfile?: () => Profile;
}

export class FastScanner {
  private readonly families = new Map<string, FamilyState>();
  private readonly withSamples = new Map<string, MetricType>();
  private readonly table = new SeriesTable();
  /** The one line reader (scan.ts): canonical label sets are read by it, as the strict parser reads every line. */
  private readonly cursor = new LineCursor();
  private readonly verdict = new Verdict();
  private readonly parseNotices: Problem[] = [];
  private readonly validationNotices: Array<{ family: string; problem: Problem }> = [];
  private lineNo = 0;
  private readonly lines: ChunkLines;
  /** Lines holding invalid UTF-8 (few: a set of their numbers). */
  private readonly badLines = new Set<number>();
  /** A syntax error was found: the rest of the input is only checked for UTF-8. */
  private draining = false;
  private wholeFile = false;
  private totalSeries = 0;
  private strictBlocks = 0;
  /** Input not yet handed out in blocks when the scanner stopped for the whole-file parse. */
  readonly pending: Uint8Array[] = [];

  // The current block.
  private family: FamilyState | undefined;
  private startLine = 1;
  private readonly raw = new ByteRuns();
  private readonly out = new ByteRuns();
  private strict = false;
  private identical = true;
  private stage = Stage.Start;
  private series = 0;

  constructor(
    private readonly options: FastScanOptions,
    private readonly onBlock: (block: FastBlock) => void,
    private readonly mode: ScanMode = {},
  ) {
    this.lines = new ChunkLines((buf, start, end) => this.region(buf, start, end), mode.reusedChunks === true);
  }

  /** Feed the next chunk; false once more input cannot change the outcome (or the scanner stopped for the whole-file parse). */
  push(chunk: Uint8Array): boolean {
    if (this.stopped) return false;
    const rest = this.lines.push(chunk);
    if (rest !== undefined) this.pending.push(...this.raw.take(), ...rest);
    if (this.mode.reusedChunks === true) this.release(asBuffer(chunk));
    return !this.stopped;
  }

  /** Copy what the scanner still holds of `buf`: the caller is about to refill it. */
  private release(buf: Buffer): void {
    const own = (piece: Uint8Array): Uint8Array => (piece.buffer === buf.buffer ? Buffer.from(piece) : piece);
    this.raw.copyFrom(buf);
    this.out.copyFrom(buf);
    this.pending.splice(0, this.pending.length, ...this.pending.map(own));
  }

  /** The input ended: close the last block and give the verdict. */
  end(): FastResult {
    if (!this.stopped) {
      const rest = this.lines.end();
      if (rest !== undefined) this.pending.push(...this.raw.take(), ...rest);
    }
    if (!this.stopped && !this.draining) this.closeBlock();
    if (!this.stopped && !this.draining) this.crossFamily();
    const validation = [...this.validationNotices].sort((a, b) => compareNames(a.family, b.family)).map((entry) => entry.problem);
    return {
      error: this.verdict.first,
      notices: [...this.parseNotices, ...validation],
      wholeFile: this.wholeFile,
      families: this.withSamples.size,
      series: this.totalSeries,
      strictBlocks: this.strictBlocks,
    };
  }

  /** The current line holds invalid UTF-8. */
  private isBadLine(): boolean {
    return this.badLines.size > 0 && this.badLines.has(this.lineNo);
  }

  private get stopped(): boolean {
    return this.wholeFile;
  }

  /** Whole lines buf[start, end) (ChunkLines' ReadLines): where it stopped, for the whole-file parse. */
  private region(buf: Buffer, start: number, end: number): number {
    // node_exporter takes invalid UTF-8 in comments and HELP, not in samples: the strict parser decides, for the block.
    if (!isUtf8(buf.subarray(start, end))) invalidUtf8Lines(buf.subarray(start, end), this.lineNo + 1, this.badLines);
    let pos = start;
    while (pos < end) {
      let newline = buf.indexOf(Byte.Newline, pos);
      if (newline === -1 || newline >= end) newline = end;
      this.lineNo++;
      if (!this.draining) this.line(buf, pos, newline, newline < end);
      if (this.wholeFile) return pos;
      pos = newline + 1;
    }
    return end;
  }

  private line(buf: Buffer, start: number, end: number, terminated: boolean): void {
    const current = this.family;
    if (current !== undefined && !this.strict && terminated && this.isOwnSample(buf, start, end, current) && !this.isBadLine()) {
      this.raw.add(buf, start, end + 1);
      this.fastSample(buf, start, end, current);
      return;
    }
    const family = this.classify(buf, start, end);
    if (this.wholeFile) return;
    if (family !== undefined && family !== this.family) {
      this.closeBlock();
      if (this.draining) return;
      this.openBlock(family);
    }
    this.raw.add(buf, start, terminated ? end + 1 : end);
    // The strict parser owns the rules of a missing final newline and of invalid UTF-8.
    if (!terminated || this.isBadLine()) this.strict = true;
    if (this.strict) return;
    if (family === undefined)
      this.identical = false; // blank or comment: not in the output
    else if (family.type === 'histogram' || family.type === 'summary') this.strict = true;
    else if (buf[start] === Byte.Hash) this.fastComment(buf, start, end, family);
    else if (this.isOwnSample(buf, start, end, family)) this.fastSample(buf, start, end, family);
    else this.strict = true;
  }

  /** A sample line of the current (counter, gauge or untyped) family, name first, not a longer name. */
  private isOwnSample(buf: Buffer, start: number, end: number, family: FamilyState): boolean {
    const { bytes } = family;
    const after = buf[start + bytes.length];
    return (
      (after === Byte.OpenBrace || after === Byte.Space) &&
      startsWith(buf, start, end, bytes) &&
      family.type !== 'histogram' &&
      family.type !== 'summary'
    );
  }

  /**
   * The family a line belongs to, as the strict parser assigns it (creating
   * it, and recording HELP and TYPE as it does); undefined for blank and
   * comment lines. A line the strict parser refuses marks the block strict.
   */
  private classify(buf: Buffer, start: number, end: number): FamilyState | undefined {
    const p = skipBlanks(buf, start, end);
    if (p === end) return undefined;
    if (buf[p] === Byte.Hash) return this.classifyComment(buf, p + 1, end);
    const name = nameEnd(buf, p, end, NameKind.Metric);
    if (name === p) {
      this.quotedOrNone(buf[p]);
      return undefined;
    }
    const current = this.family;
    const family =
      current !== undefined && name - p === current.bytes.length && startsWith(buf, p, end, current.bytes)
        ? current
        : this.lookup(buf.toString('latin1', p, name));
    family.type ??= 'untyped';
    return family;
  }

  private classifyComment(buf: Buffer, start: number, end: number): FamilyState | undefined {
    const directive = readDirective(buf, start, end);
    if (directive === undefined) return undefined;
    const { nameStart, nameEnd } = directive;
    // A quoted name, or none where one must be: the strict parser reads it (or words the error).
    if (nameEnd === -1 || !isBlank(buf[nameEnd] as number)) {
      this.quotedOrNone(buf[nameStart]);
      return undefined;
    }
    const family = this.lookup(buf.toString('latin1', nameStart, nameEnd));
    const rest = skipBlanks(buf, nameEnd, end);
    if (rest === end || directive.help || family.type !== undefined) return family;
    const type = typeWord(buf.toString('latin1', rest, end));
    // node_exporter regroups a gauge histogram's series as untyped families: the strict parser does that.
    if (type === 'gauge_histogram') this.wholeFile = true;
    else if (type !== undefined) family.type = type;
    return family;
  }

  /**
   * A line whose family is not a legacy name at its start: a quoted name
   * (`"m"`, `{…,"m"}`) belongs to a family this scan cannot place, so the
   * whole input goes to the family-building parser; anything else is an
   * error that parser words for the block.
   */
  private quotedOrNone(first: number | undefined): void {
    if (first === Byte.Quote || first === Byte.OpenBrace) this.wholeFile = true;
    else this.strict = true;
  }

  /** The strict parser's family lookup: exact name, else a summary's or histogram's suffixed series. */
  private lookup(name: string): FamilyState {
    const found = owningFamily(this.families, name);
    if (found) {
      if (found.closed) this.wholeFile = true;
      return found;
    }
    const created: FamilyState = { name, bytes: Buffer.from(name, 'latin1'), type: undefined, closed: false };
    this.families.set(name, created);
    return created;
  }

  private openBlock(family: FamilyState): void {
    this.family = family;
    this.startLine = this.lineNo;
    this.strict = false;
    this.identical = true;
    this.stage = Stage.Start;
    this.series = 0;
    this.table.clear();
  }

  private fastComment(buf: Buffer, start: number, end: number, family: FamilyState): void {
    const isHelp = this.stage === Stage.Start && startsWith(buf, start, end, HELP_PREFIX);
    const isType = !isHelp && this.stage <= Stage.AfterHelp && startsWith(buf, start, end, TYPE_PREFIX);
    const name = start + HELP_PREFIX.length;
    const text = name + family.bytes.length + 1;
    const fits = (isHelp || isType) && startsWith(buf, name, end, family.bytes) && buf[text - 1] === Byte.Space;
    const typeBytes = family.type === undefined ? undefined : FAST_TYPES[family.type];
    if (fits && isHelp && isCanonicalHelp(buf, text, end)) this.stage = Stage.AfterHelp;
    else if (fits && isType && typeBytes && end - text === typeBytes.length && startsWith(buf, text, end, typeBytes))
      this.stage = Stage.AfterType;
    else {
      this.strict = true;
      return;
    }
    if (this.mode.checkOnly !== true) this.out.add(buf, start, end + 1);
  }

  private fastSample(buf: Buffer, start: number, end: number, family: FamilyState): void {
    const nameLength = family.bytes.length;
    let p = start + nameLength;
    const hasLabels = buf[p] === Byte.OpenBrace;
    if (hasLabels) p = this.canonicalLabels(buf, p, end, family);
    const valueStart = p + 1;
    const counter = family.type === 'counter';
    const checkOnly = this.mode.checkOnly === true;
    const value =
      p === -1 || buf[p] !== Byte.Space
        ? undefined
        : checkOnly
          ? isValidValue(buf, valueStart, end, counter)
          : canonicalValue(buf, valueStart, end, counter);
    if (value === undefined || value === false || !this.addKey(buf, start + nameLength + 1, hasLabels ? this.cursor.labelCount : 0)) {
      this.strict = true;
      return;
    }
    family.type ??= 'untyped';
    if (checkOnly) this.stage = Stage.Samples;
    else this.render(buf, start, end, valueStart, value as string, family);
    this.series++;
  }

  /**
   * The label set at `brace`, read by the one line reader: the position after
   * it when it is canonical, else -1 (the strict parser words any error).
   */
  private canonicalLabels(buf: Buffer, brace: number, end: number, family: FamilyState): number {
    const cursor = this.cursor.reset(buf, brace, end);
    try {
      cursor.readLabelSpans(family.name, false);
    } catch (error) {
      if (error instanceof ScanError) return -1;
      throw error;
    }
    return cursor.canonicalLabels ? cursor.pos : -1;
  }

  /** The sample's canonical line: its bytes, a respelled value, and the TYPE line an untyped family lacks. */
  private render(buf: Buffer, start: number, end: number, valueStart: number, value: string, family: FamilyState): void {
    if (this.stage !== Stage.AfterType && this.stage !== Stage.Samples) {
      // No TYPE line: the writer adds one.
      this.out.addBytes(Buffer.from(`# TYPE ${family.name} untyped\n`, 'latin1'));
      this.identical = false;
    }
    this.stage = Stage.Samples;
    if (value === '') this.out.add(buf, start, end + 1);
    else {
      this.out.add(buf, start, valueStart);
      this.out.addBytes(Buffer.from(`${value}\n`, 'latin1'));
      this.identical = false;
    }
  }

  /**
   * Record the series' key; false when it may repeat one. The key is hashed
   * as the bytes `a="1",b="2"` of its labels with a value, in name order: for
   * the usual sorted labels, exactly the text between the braces.
   */
  private addKey(buf: Buffer, labelsStart: number, count: number): boolean {
    const spans = this.cursor.spans;
    spanLabels.buf = buf;
    spanLabels.spans = spans;
    const length = identityOrder(count, spanLabels, scratchOrder);
    if (length === count && inOrder(length)) {
      // Every label counts, in the order written: the key is the text between the braces.
      hashBytes(buf, labelsStart, count === 0 ? labelsStart : (spans[count * 4 - 1] as number) + 1);
    } else {
      if (keyScratch.length < buf.length) keyScratch = Buffer.alloc(buf.length); // a key is shorter than its line
      let size = 0;
      for (let i = 0; i < length; i++) {
        const at = (scratchOrder[i] as number) * 4;
        if (size > 0) size = keyScratch.write(',', size, 'latin1') + size;
        // name="value": from the name up to and with the closing quote.
        size += buf.copy(keyScratch, size, spans[at], (spans[at + 3] as number) + 1);
      }
      hashBytes(keyScratch, 0, size);
    }
    return this.table.add(hash.high, hash.low);
  }

  private closeBlock(): void {
    const raw = this.raw.take();
    const family = this.family;
    if (family !== undefined) family.closed = true;
    if (raw.length === 0) return;
    if (this.strict || this.series === 0) {
      this.closeStrict(raw);
      return;
    }
    this.withSamples.set(family?.name as string, family?.type ?? 'untyped');
    this.totalSeries += this.series;
    this.onBlock({
      name: family?.name,
      output: this.out.take(),
      raw,
      line: this.startLine,
      identical: this.identical,
      series: this.series,
      type: family?.type ?? 'untyped',
      parsed: undefined,
    });
  }

  private closeStrict(raw: Uint8Array[]): void {
    this.out.take();
    this.strictBlocks++;
    const result = this.readStrictly(raw);
    this.record(result);
    if (result.fatal) {
      this.draining = true;
      this.verdict.stop();
      return;
    }
    const output: Uint8Array[] = [];
    let series = 0;
    for (const family of result.families) {
      if (this.mode.checkOnly !== true) output.push(Buffer.from(renderFamily(family)));
      this.withSamples.set(family.name, family.type);
      series += family.samples.length;
    }
    this.totalSeries += series;
    this.onBlock({
      name: this.family?.name,
      output,
      raw,
      line: this.startLine,
      identical: false,
      series,
      type: result.families[0]?.type,
      parsed: result.families,
    });
  }

  private readStrictly(raw: readonly Uint8Array[]): SegmentResult {
    const result = readSegment(raw, this.startLine, this.options);
    const retry = this.options.retryProfile;
    if (retry === undefined || !result.problems.some((problem) => problem.severity === 'error')) return result;
    return readSegment(raw, this.startLine, { ...this.options, profile: retry() });
  }

  private record(result: SegmentResult): void {
    result.problems.forEach((problem, index) => {
      const phase = index < result.parseProblems ? Phase.Parse : Phase.Validation;
      this.verdict.add(problem, phase);
      if (problem.severity === 'error') return;
      if (phase === Phase.Parse) this.parseNotices.push(problem);
      else this.validationNotices.push({ family: this.family?.name ?? '', problem });
    });
  }

  /** Rules across families (a histogram and a family named like its series). */
  private crossFamily(): void {
    const stubs: MetricFamily[] = [...this.withSamples]
      .sort(([a], [b]) => compareNames(a, b))
      .map(([name, type]) => familyStub(name, type));
    for (const problem of validateFamilies(stubs)) {
      this.verdict.add(problem, Phase.CrossFamily);
      if (problem.severity !== 'error') this.validationNotices.push({ family: '', problem });
    }
  }
}

const scratchOrder = new Int32Array(MAX_CANONICAL_LABELS);
/** A key rebuilt in name order (labels are at most a line long). */
let keyScratch = Buffer.alloc(1 << 16);

/** Two independent 32-bit hashes (murmur3-style and FNV-style, 4 bytes a step) of the last key hashed. */
const hash = { high: 0, low: 0 };

function hashBytes(buf: Buffer, start: number, end: number): void {
  let h = 0x811c9dc5;
  let l = 0x9747b28c;
  let p = start;
  for (; p + 4 <= end; p += 4) {
    // By hand, not readInt32LE: half the time of the whole hash (the same value).
    const word = (buf[p] as number) | ((buf[p + 1] as number) << 8) | ((buf[p + 2] as number) << 16) | ((buf[p + 3] as number) << 24);
    let k = Math.imul(word, 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    h ^= k;
    h = (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
    l = Math.imul(l ^ word, 16777619) ^ (l >>> 15);
  }
  for (; p < end; p++) {
    const b = buf[p] as number;
    h = Math.imul(h ^ b, 0x5bd1e995);
    l = Math.imul(l ^ b, 16777619);
  }
  hash.high = h ^ (end - start);
  hash.low = l | 0;
}

/** The label spans of the line just read, as identityOrder looks at them (one object for every line). */
const spanLabels = {
  buf: Buffer.alloc(0) as Uint8Array,
  spans: new Int32Array(0) as Int32Array,
  isEmpty(i: number): boolean {
    return this.spans[i * 4 + 2] === this.spans[i * 4 + 3];
  },
  compare(a: number, b: number): number {
    const { spans } = this;
    return compareRanges(this.buf, spans[a * 4] as number, spans[a * 4 + 1] as number, spans[b * 4] as number, spans[b * 4 + 1] as number);
  },
};

/** Whether scratchOrder holds 0, 1, … length-1. */
function inOrder(length: number): boolean {
  for (let i = 0; i < length; i++) if (scratchOrder[i] !== i) return false;
  return true;
}

export interface ScannedText extends FastResult {
  /** The canonical text, families sorted by name (empty on error or when `wholeFile`). */
  readonly output: Uint8Array;
}

/** Scan input held in memory, in the given chunks: the fast path without a file to stream to. */
export function scanChunks(chunks: Iterable<Uint8Array>, options: ReadOptions = {}): ScannedText {
  const blocks: FastBlock[] = [];
  const scanner = new FastScanner(options, (block) => blocks.push(block));
  for (const chunk of chunks) if (!scanner.push(chunk)) break;
  const result = scanner.end();
  if (result.error !== undefined || result.wholeFile) return { ...result, output: new Uint8Array(0) };
  const sorted = blocks.filter((block) => block.name !== undefined).sort((a, b) => compareNames(a.name as string, b.name as string));
  return { ...result, output: Buffer.concat(sorted.flatMap((block) => block.output)) };
}
