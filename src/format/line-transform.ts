// Conversions in front of the grammar (issue 20: one grammar): a transform
// reads the input line by line and hands on text-format lines, which the one
// grammar then reads unchanged. One output line per input line (a dropped
// line becomes a blank one), so the grammar's messages name the input's lines.
import { ExpositionError } from '../errors.js';
import { Byte, codeAt, type Codes, labelValueEscape, nameEnd, NameKind, skipBlanks } from './lex.js';
import { LabelReader, LabelStep } from './labels.js';
import { asBuffer, ChunkLines } from './lines.js';
import type { Rule } from './types.js';

const NEWLINE = Buffer.from('\n');
const NO_BYTES = Buffer.alloc(0);

/**
 * Input in chunks, converted a line at a time; memory holds one line and the
 * output of one chunk. Lines handed on unchanged are copied as runs of the
 * chunk, not line by line.
 */
export abstract class LineTransform {
  private out: Uint8Array[] = [];
  private lineNo = 0;
  private newline = true;
  /** The run being read, where its unchanged lines begin, and where the current line begins. */
  private buf: Buffer = NO_BYTES;
  private keptFrom = 0;
  private lineStart = 0;

  constructor(protected readonly source?: string) {}

  /**
   * A whole line without its newline. Returns true to hand it on unchanged;
   * otherwise what replaces it (nothing, or lines held back earlier and then
   * it) is handed on with `emit`, in input order.
   */
  protected abstract line(bytes: Buffer, lineNo: number): boolean;

  /** The input ended after line `lineNo`. */
  protected finish(_lineNo: number): void {}

  /** Hand on a line in place of the current one; it gets a newline unless it is the input's last line and had none. */
  protected emit(line: Uint8Array | string): void {
    this.handOnKept();
    this.out.push(typeof line === 'string' ? Buffer.from(line, 'latin1') : line);
    if (this.newline) this.out.push(NEWLINE);
  }

  /** Hand on a line with a newline: one held back earlier (a line came after it), or one that completes the input. */
  protected emitWithNewline(line: string): void {
    this.handOnKept();
    this.out.push(Buffer.from(line, 'latin1'), NEWLINE);
  }

  protected refuse(message: string, line: number | undefined, rule: Rule = 'syntax'): ExpositionError {
    return new ExpositionError({ severity: 'error', rule, message, ...(line === undefined ? {} : { line }), wholeFile: true }, this.source);
  }

  /** The converted input, chunk by chunk. */
  async *convert(input: AsyncIterable<Uint8Array | string>): AsyncGenerator<Uint8Array> {
    const lines = new ChunkLines((buf, start, end) => {
      this.lines(buf, start, end);
      return end;
    });
    for await (const chunk of input) {
      lines.push(typeof chunk === 'string' ? Buffer.from(chunk) : asBuffer(chunk));
      if (this.out.length > 0) yield this.take();
    }
    lines.end();
    this.finish(this.lineNo);
    if (this.out.length > 0) yield this.take();
  }

  private lines(buf: Buffer, start: number, end: number): void {
    this.buf = buf;
    this.keptFrom = start;
    for (let p = start; p < end;) {
      const newline = buf.indexOf(Byte.Newline, p);
      const stop = newline === -1 || newline >= end ? end : newline;
      this.newline = stop < end;
      this.lineStart = p;
      if (!this.line(buf.subarray(p, stop), ++this.lineNo)) {
        this.handOnKept();
        this.keptFrom = Math.min(stop + 1, end);
      }
      p = stop + 1;
    }
    this.lineStart = end;
    this.handOnKept();
    this.buf = NO_BYTES;
  }

  /** The unchanged lines before the current one. */
  private handOnKept(): void {
    if (this.lineStart > this.keptFrom) this.out.push(this.buf.subarray(this.keptFrom, this.lineStart));
    this.keptFrom = this.lineStart;
  }

  private take(): Uint8Array {
    const chunk = this.out.length === 1 ? (this.out[0] as Uint8Array) : Buffer.concat(this.out);
    this.out = [];
    return chunk;
  }
}

/** A name in a line: legacy from `start` to `end`, or quoted (`end` after the closing quote). */
export interface NameToken {
  readonly start: number;
  readonly end: number;
  readonly quoted: boolean;
}

/** One label of a sample: its name token, and its value with the quotes (`valueStart` at the opening one). */
export interface LabelToken {
  readonly name: NameToken;
  readonly valueStart: number;
  readonly valueEnd: number;
}

/** A sample line up to its value: the metric name (legacy, quoted, or quoted in the braces), the labels, and where they end. */
export interface SampleHead {
  readonly name: NameToken;
  readonly labels: readonly LabelToken[];
  /** After the name, or after the label set's '}'. */
  readonly end: number;
}

const reader = new LabelReader();

/**
 * The head of the sample line starting at `pos`, read with the grammar's own
 * readers (lex names, labels' LabelReader); undefined for anything they would
 * refuse, which a transform then hands on unchanged for the grammar to word.
 */
export function readSampleHead(codes: Codes, pos: number, end: number): SampleHead | undefined {
  const first = codeAt(codes, pos);
  let name: NameToken | undefined;
  let p: number;
  if (first === Byte.OpenBrace) p = pos;
  else {
    name = nameToken(codes, pos, end);
    if (name === undefined) return undefined;
    p = skipBlanks(codes, name.end, end);
    if (p >= end || codeAt(codes, p) !== Byte.OpenBrace) return { name, labels: [], end: name.end };
  }
  const labels: LabelToken[] = [];
  reader.start(p);
  for (;;) {
    const step = reader.next(codes, end);
    if (step === LabelStep.Close) break;
    const token = { start: reader.nameStart, end: reader.nameEnd, quoted: reader.quotedName };
    if (step === LabelStep.NoEquals && token.quoted && name === undefined && isItemEnd(codes, reader.pos, end)) {
      // `{"name",...}`: the quoted metric name as an item of the braces.
      name = token;
      const close = codeAt(codes, reader.pos) === Byte.CloseBrace;
      reader.pos++;
      if (close) break;
      continue;
    }
    if (step !== LabelStep.Label && step !== LabelStep.LastLabel) return undefined;
    labels.push({ name: token, valueStart: reader.valueStart - 1, valueEnd: reader.valueEnd + 1 });
    if (step === LabelStep.LastLabel) break;
  }
  return name === undefined ? undefined : { name, labels, end: reader.pos };
}

function isItemEnd(codes: Codes, pos: number, end: number): boolean {
  const code = pos < end ? codeAt(codes, pos) : -1;
  return code === Byte.Comma || code === Byte.CloseBrace;
}

/** The metric name at `pos`, quoted or legacy. */
export function nameToken(codes: Codes, pos: number, end: number): NameToken | undefined {
  return codeAt(codes, pos) === Byte.Quote ? quotedToken(codes, pos, end) : legacyToken(codes, pos, end);
}

function legacyToken(codes: Codes, pos: number, end: number): NameToken | undefined {
  const stop = nameEnd(codes, pos, end, NameKind.Metric);
  return stop === pos ? undefined : { start: pos, end: stop, quoted: false };
}

/** A quoted name at `pos` (the grammar's quoting: label-value escapes). */
export function quotedToken(codes: Codes, pos: number, end: number): NameToken | undefined {
  reader.start(pos - 1);
  // The label reader finds the closing quote of a quoted name (NoEquals: no '=' follows, as expected here).
  const step = reader.next(codes, end);
  if (!reader.quotedName || reader.nameStart !== pos || step === LabelStep.NoName) return undefined;
  return { start: pos, end: reader.nameEnd, quoted: true };
}

/** The text of a name token: a quoted one unescaped (`\\`, `\"`, `\n`). */
export function nameText(codes: Codes, token: NameToken): string {
  const raw =
    typeof codes === 'string'
      ? codes.slice(token.start, token.end)
      : Buffer.from(codes.buffer, codes.byteOffset, codes.length).toString('latin1', token.start, token.end);
  if (!token.quoted) return raw;
  return raw.slice(1, -1).replace(/\\(.)/g, (escape, char: string) => labelValueEscape(char.charCodeAt(0)) ?? escape);
}

/** True when `codes[pos, end)` holds only blanks. */
export function isBlankRun(codes: Codes, pos: number, end: number): boolean {
  return skipBlanks(codes, pos, end) >= end;
}
