// The grammar of a label set, `{name="value",...}`, as node_exporter reads
// it: blanks around names, '=' and values, a trailing comma, quoted names.
// The line reader (scan.ts) walks a set with it, words the errors and
// records where each label is; on text it serves the CLI's series arguments
// and the tests, which compare both representations.
import { Byte, codeAt, type Codes, isBlank, labelValueEscape, nameEnd, NameKind, skipBlanks } from './lex.js';

/** What one step through a label set found. */
export const enum LabelStep {
  /** A label, and ',' after it. */
  Label,
  /** A label, and '}' after it. */
  LastLabel,
  /** '}' where a label could start: an empty set, or a trailing comma. */
  Close,
  /** The line ends where a label could start. */
  EndOfLine,
  /** Neither a name nor '}' where a label could start. */
  NoName,
  /** No '=' after the name (at `pos`). */
  NoEquals,
  /** No '"' after '=' (at `pos`). */
  NoQuote,
  /** A value with an escape node_exporter refuses, or without its closing quote (from `valueStart`). */
  BadValue,
  /** Neither ',' nor '}' after the value (at `pos`). */
  NoSeparator,
}

const NOT_CANONICAL = -1;

/** Reads a label set one label at a time; its fields say where the last label's parts are. */
export class LabelReader {
  pos = 0;
  nameStart = 0;
  /** End of the name; for a quoted name, after its closing quote. */
  nameEnd = 0;
  /** The name is quoted (`"name"="value"`). */
  quotedName = false;
  /** Inside the quotes. */
  valueStart = 0;
  valueEnd = 0;
  /** Blanks somewhere in the label or around it. */
  blanks = false;
  /** The value holds a NUL byte (read, and warned of by validate; never copied as canonical). */
  nul = false;

  /** Start after the '{' at `brace`. */
  start(brace: number): void {
    this.pos = brace + 1;
  }

  /** The next label, or why there is none; `pos` moves past what was read. */
  next(codes: Codes, end: number): LabelStep {
    if (typeof codes !== 'string') {
      const step = this.nextCanonical(codes, end);
      if (step !== NOT_CANONICAL) return step;
    }
    return this.nextAny(codes, end);
  }

  /**
   * On bytes, `name="value"` with ',' or '}' right after it: the form the
   * fast path copies, read in one short run (a million lines come through
   * here). Anything else is left to the general steps (nextAny), from `pos`.
   */
  private nextCanonical(buf: Uint8Array, end: number): LabelStep | typeof NOT_CANONICAL {
    const start = this.pos;
    const equals = nameEnd(buf, start, end, NameKind.Label);
    if (equals === start || equals + 1 >= end || buf[equals] !== Byte.Equals || buf[equals + 1] !== Byte.Quote) return NOT_CANONICAL;
    const close = quotedEndBytes(buf, equals + 2, end);
    const separator = close === -1 || close + 1 >= end ? -1 : (buf[close + 1] as number);
    if (separator !== Byte.Comma && separator !== Byte.CloseBrace) return NOT_CANONICAL;
    this.nameStart = start;
    this.nameEnd = equals;
    this.quotedName = false;
    this.blanks = false;
    this.nul = valueNul;
    this.valueStart = equals + 2;
    this.valueEnd = close;
    this.pos = close + 2;
    return separator === Byte.Comma ? LabelStep.Label : LabelStep.LastLabel;
  }

  private nextAny(codes: Codes, end: number): LabelStep {
    const p = skipBlanks(codes, this.pos, end);
    this.blanks = p !== this.pos;
    this.pos = p;
    if (p >= end) return LabelStep.EndOfLine;
    const first = codeAt(codes, p);
    if (first === Byte.CloseBrace) {
      this.pos = p + 1;
      return LabelStep.Close;
    }
    this.nameStart = p;
    this.quotedName = first === Byte.Quote;
    if (this.quotedName) {
      const close = quotedEnd(codes, p + 1, end);
      if (close === -1) return LabelStep.NoName;
      this.nameEnd = close + 1;
    } else {
      this.nameEnd = nameEnd(codes, p, end, NameKind.Label);
      if (this.nameEnd === p) return LabelStep.NoName;
    }
    return this.afterName(codes, end);
  }

  private afterName(codes: Codes, end: number): LabelStep {
    let p = this.skip(codes, this.nameEnd, end);
    this.pos = p;
    if (p >= end || codeAt(codes, p) !== Byte.Equals) return LabelStep.NoEquals;
    p = this.skip(codes, p + 1, end);
    this.pos = p;
    if (p >= end || codeAt(codes, p) !== Byte.Quote) return LabelStep.NoQuote;
    this.valueStart = p + 1;
    const close = quotedEnd(codes, p + 1, end);
    this.nul = typeof codes !== 'string' && valueNul;
    if (close === -1) return LabelStep.BadValue;
    this.valueEnd = close;
    p = this.skip(codes, close + 1, end);
    this.pos = p + 1;
    const separator = p < end ? codeAt(codes, p) : -1;
    if (separator === Byte.Comma) return LabelStep.Label;
    if (separator === Byte.CloseBrace) return LabelStep.LastLabel;
    this.pos = p;
    return LabelStep.NoSeparator;
  }

  private skip(codes: Codes, pos: number, end: number): number {
    if (pos < end && !isBlank(codeAt(codes, pos))) return pos;
    const p = skipBlanks(codes, pos, end);
    if (p !== pos) this.blanks = true;
    return p;
  }
}

/** Bytes that end a plain run of a value: quote, backslash, newline, NUL (noted in valueNul). */
const VALUE_STOP = new Uint8Array(256);
for (const b of [Byte.Quote, Byte.Backslash, Byte.Newline, 0]) VALUE_STOP[b] = 1;

/** Whether the last value read on bytes held a NUL. */
let valueNul = false;

/** The closing quote of a value that starts at `pos`, or -1 when an escape is refused or the line ends first. */
export function quotedEnd(codes: Codes, pos: number, end: number): number {
  let p = pos;
  if (typeof codes === 'string') {
    for (;;) {
      const quote = codes.indexOf('"', p);
      const backslash = codes.indexOf('\\', p);
      if (quote === -1 || quote >= end) return -1;
      if (backslash === -1 || backslash > quote) return quote;
      if (backslash + 1 >= end || labelValueEscape(codes.charCodeAt(backslash + 1)) === undefined) return -1;
      p = backslash + 2;
    }
  }
  return quotedEndBytes(codes, p, end);
}

function quotedEndBytes(buf: Uint8Array, pos: number, end: number): number {
  let p = pos;
  valueNul = false;
  for (;;) {
    // No bound check per byte: a line ends at a newline (a stop) or the buffer's end (undefined stops too).
    while (VALUE_STOP[buf[p] as number] === 0) p++;
    if (p >= end) return -1;
    const b = buf[p];
    if (b === Byte.Quote) return p;
    if (b === 0) {
      valueNul = true;
      p++;
      continue;
    }
    if (b !== Byte.Backslash || p + 1 >= end || labelValueEscape(buf[p + 1] as number) === undefined) return -1;
    p += 2;
  }
}
