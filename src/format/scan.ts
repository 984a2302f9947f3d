// The one reader of a line of exposition text, on bytes. Every consumer of
// the format reads its lines here: the strict parser (parse.ts, which builds
// families), the streaming path (fast-scan.ts, which copies the lines it
// finds canonical) and the CLI's series arguments. Grammar as in
// node_exporter's parser (prometheus/common expfmt): legacy names, and
// quoted names where the profile's node_exporter versions all read them.
// The pieces (names, escapes, label sets) are lex.ts's and labels.ts's.
import { crashMessage, type VersionRules } from './profile.js';
import { LabelReader, LabelStep } from './labels.js';
import {
  Byte,
  compareRanges,
  helpEscape,
  isBlank,
  isLabelName,
  isMetricName,
  labelValueEscape,
  nameEnd,
  NameKind,
  startsWith,
} from './lex.js';
import { boundLabel } from './shape.js';
import type { Rule } from './types.js';
import { MAX_SERIES_LABEL_CHARS } from './validate.js';

/** Thrown inside a line; the caller adds the line number. */
export class ScanError extends Error {
  constructor(
    message: string,
    readonly rule: Rule = 'syntax',
  ) {
    super(message);
  }
}

const MAX_SHARED_VALUES = 1 << 16;
/** Label spans kept per line: [nameStart, nameEnd, valueStart, valueEnd] each. */
const SPAN_FIELDS = 4;

/** A cursor over one line (without its newline), on bytes. */
export class LineCursor {
  buf: Buffer;
  pos = 0;
  /** Where the line ends (its newline, or the end of the input). */
  end: number;
  /** The label set read by readLabelSpans: how many labels, and where each is (SPAN_FIELDS per label). */
  labelCount = 0;
  spans = new Int32Array(16 * SPAN_FIELDS);
  /**
   * The label set just read is in the form the streaming path copies: no
   * blanks, no quoted name, no `__` or bound (`le`, `quantile`) name, not long.
   */
  canonicalLabels = true;
  /** The metric name a label set read with `nameInside` held (`{"name",…}`), and whether it came before every label. */
  insideName: string | undefined;
  nameFirst = false;
  /** Quoted label names of the set just read, by index (rare: a sparse list). */
  private quotedLabelNames: Array<string | undefined> = [];

  /**
   * `names`: label names seen so far, shared across the lines of one file, so
   * a million samples share a few name strings instead of holding a copy each.
   * `quotedNameRefusal`: why quoted (UTF-8 syntax) names are refused, or
   * null when they are read.
   */
  constructor(
    line: string | Uint8Array = EMPTY,
    private readonly names?: Map<string, string>,
    private readonly quotedNameRefusal: string | null = QUOTED_NAMES_UNSUPPORTED,
  ) {
    this.buf = typeof line === 'string' ? Buffer.from(line, 'utf8') : asBuffer(line);
    this.end = this.buf.length;
  }

  /** Read the line buf[start, end) next. */
  reset(buf: Buffer, start: number, end: number): this {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    return this;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  peek(): number {
    return this.pos < this.end ? (this.buf[this.pos] as number) : -1;
  }

  skipBlanks(): void {
    while (this.pos < this.end && isBlank(this.buf[this.pos] as number)) this.pos++;
  }

  /** A metric name (lex.ts); returns '' when none starts here. */
  readMetricName(): string {
    const start = this.pos;
    this.pos = nameEnd(this.buf, start, this.end, NameKind.Metric);
    return this.intern(this.buf.toString('latin1', start, this.pos));
  }

  /** A quoted name (`"..."`, label-value escapes) starting at the quote; refused unless the profile reads them. */
  readQuotedName(what: string): string {
    const name = this.readQuotedValue(false);
    if (this.quotedNameRefusal !== null) throw new ScanError(`${what} "${name}" is quoted: ${this.quotedNameRefusal}`, 'quoted-name');
    return name;
  }

  /** Characters up to the next blank or the end of the line. */
  readToken(): string {
    const start = this.pos;
    return this.text(start, this.skipToken());
  }

  /** Where the token starting here ends (the next blank or the line's end); `pos` moves there. */
  skipToken(): number {
    while (this.pos < this.end && !isBlank(this.buf[this.pos] as number)) this.pos++;
    return this.pos;
  }

  rest(): string {
    const rest = this.text(this.pos, this.end);
    this.pos = this.end;
    return rest;
  }

  /** The line's text from `start` to `end`. */
  text(start: number, end: number): string {
    return this.buf.toString('utf8', start, end);
  }

  /**
   * The shared copy of a label value, while fewer than MAX_SHARED_VALUES
   * strings are shared: values repeat a lot in practice (hosts, devices,
   * origins), and a million samples then hold a few thousand strings; a file
   * of unique values stops adding to the map once it is full.
   */
  internValue(value: string): string {
    if (this.names === undefined) return value;
    const shared = this.names.get(value);
    if (shared !== undefined) return shared;
    if (this.names.size < MAX_SHARED_VALUES) this.names.set(value, value);
    return value;
  }

  /** The shared copy of `name` (see `names`). */
  intern(name: string): string {
    if (this.names === undefined) return name;
    const shared = this.names.get(name);
    if (shared !== undefined) return shared;
    this.names.set(name, name);
    return name;
  }

  /**
   * A quoted label value starting at the opening quote. Escapes: `\\`, `\"`, `\n`.
   * `atEndOfInput` tells whether the line ended the input without a newline.
   */
  readQuotedValue(atEndOfInput: boolean): string {
    const start = this.pos + 1;
    const close = quotedClose(this.buf, start, this.end);
    if (close !== -1) {
      this.pos = close + 1;
      return this.unescapeValue(start, close);
    }
    return this.badValue(start, atEndOfInput);
  }

  /** The value buf[start, close) unescaped (its escapes are valid: quotedClose checked them). */
  private unescapeValue(start: number, close: number): string {
    const { buf } = this;
    let backslash = findByte(buf, Byte.Backslash, start, close);
    if (backslash === -1) return buf.toString('utf8', start, close);
    const parts: string[] = [];
    let from = start;
    while (backslash !== -1) {
      parts.push(buf.toString('utf8', from, backslash), labelValueEscape(buf[backslash + 1] as number) as string);
      from = backslash + 2;
      backslash = findByte(buf, Byte.Backslash, from, close);
    }
    parts.push(buf.toString('utf8', from, close));
    return parts.join('');
  }

  /** Why a value starting at `start` has no valid closing quote, worded. */
  private badValue(start: number, atEndOfInput: boolean): never {
    const { buf, end } = this;
    for (let p = start; p < end; p++) {
      if (buf[p] !== Byte.Backslash) continue;
      if (p + 1 >= end) break;
      if (labelValueEscape(buf[p + 1] as number) === undefined) {
        const next = codePointAt(buf, p + 1, end);
        throw new ScanError(`invalid escape sequence '\\${next}' in label value (only \\\\, \\" and \\n are allowed)`);
      }
      p++;
    }
    if (atEndOfInput) throw new ScanError('unexpected end of input inside a label value');
    throw new ScanError(`label value "${this.text(start, end)}" contains an unescaped new-line or lacks its closing quote`);
  }

  /** A quoted label name; one that is not a legacy name crashes the versions that read quoted names. */
  private quotedLabelName(): string {
    const start = this.pos;
    const name = this.readQuotedValue(false);
    const crash = isLabelName(name)
      ? undefined
      : crashMessage((rules) => rules.crashesOnQuotedNonLegacyName, `quoted label name "${name}"`);
    if (crash !== undefined) throw new ScanError(crash, 'crash');
    this.pos = start;
    return this.readQuotedName('label name');
  }

  /**
   * A label set starting at `{`, as node_exporter reads it (labels.ts reads
   * its grammar): the labels, or the first thing wrong with them, worded.
   */
  readLabels(metricName: string, atEndOfInput: boolean, nameInside = false): Record<string, string> {
    const count = this.readLabelSpans(metricName, atEndOfInput, nameInside);
    const labels: Record<string, string> = {};
    const { spans } = this;
    for (let i = 0; i < count; i++) {
      const at = i * SPAN_FIELDS;
      const name = this.labelName(i);
      const value = this.internValue(this.unescapeValue(spans[at + 2] as number, spans[at + 3] as number));
      // `__proto__` as a plain assignment would set the object's prototype and lose the label (validate refuses `__` names).
      if (name === '__proto__') Object.defineProperty(labels, name, { value, enumerable: true, writable: true, configurable: true });
      else labels[name] = value;
    }
    return labels;
  }

  /** The name of label `i` of the set just read. */
  labelName(i: number): string {
    const quoted = this.quotedLabelNames[i];
    if (quoted !== undefined) return quoted;
    const at = i * SPAN_FIELDS;
    return this.intern(this.buf.toString('latin1', this.spans[at], this.spans[at + 1]));
  }

  /**
   * Read a label set starting at `{` into `spans` and return its size; every
   * rule of the set's syntax is judged here (an error is thrown, worded), and
   * `canonicalLabels` says whether the streaming path may copy it as it is.
   */
  readLabelSpans(metricName: string, atEndOfInput: boolean, nameInside = false): number {
    const reader = labelReader;
    const { buf, end } = this;
    reader.start(this.pos);
    this.labelCount = 0;
    this.insideName = undefined;
    this.canonicalLabels = end - this.pos <= MAX_SERIES_LABEL_CHARS && !nameInside;
    if (this.quotedLabelNames.length > 0) this.quotedLabelNames = [];
    for (;;) {
      const step = reader.next(buf, end);
      this.pos = reader.pos;
      if (step === LabelStep.Close) {
        this.canonicalLabels = false; // `{}` or a trailing comma: the writer respells them
        return this.labelCount;
      }
      if (step === LabelStep.EndOfLine) throw new ScanError(`unexpected end of line in the labels of "${metricName}"`);
      const after = nameInside && step === LabelStep.NoEquals ? this.metricNameInside(reader) : -1;
      if (after === Byte.CloseBrace) return this.labelCount;
      if (after === Byte.Comma) continue;
      this.labelSpanStep(reader, step, metricName, atEndOfInput);
      if (step === LabelStep.LastLabel) return this.labelCount;
    }
  }

  /**
   * `{"name",…}` (node_exporter 1.9 and later): a quoted string with ',' or
   * '}' after it, not '=', names the metric, once. Returns that separator
   * (the reader moved past it), or -1 when this is no metric name.
   */
  private metricNameInside(reader: LabelReader): number {
    const separator = this.buf[reader.pos];
    if (separator !== Byte.Comma && separator !== Byte.CloseBrace) return -1;
    this.pos = reader.nameStart;
    const raw = reader.quotedName ? this.readQuotedValue(false) : this.buf.toString('latin1', reader.nameStart, reader.nameEnd);
    if (!isMetricName(raw)) throw crashError(`quoted metric name "${raw}" (not a legacy name)`, onQuotedNonLegacyName);
    if (this.insideName !== undefined) throw new ScanError(`multiple metric names ("${this.insideName}" and "${raw}") in one label set`);
    if (reader.quotedName) {
      this.pos = reader.nameStart;
      this.readQuotedName('metric name'); // refused where the profile does not read quoted names
    } else if (this.quotedNameRefusal !== null)
      throw new ScanError(`metric name "${raw}" inside the braces: ${this.quotedNameRefusal}`, 'quoted-name');
    this.insideName = this.intern(raw);
    this.nameFirst = this.labelCount === 0;
    reader.pos += 1;
    this.pos = reader.pos;
    return separator;
  }

  /** One label of readLabelSpans: its name judged, its value's span recorded. */
  private labelSpanStep(reader: LabelReader, step: LabelStep, metricName: string, atEndOfInput: boolean): void {
    const quoted = reader.quotedName ? this.quotedNameAt(reader, step) : undefined;
    if (step === LabelStep.NoName) throw new ScanError(`invalid label name for metric "${metricName}"`);
    if (step === LabelStep.NoEquals) {
      throw new ScanError(
        `expected '=' after label name "${this.nameOf(reader, quoted)}", found ${describeByte(this.buf, reader.pos, this.end)}`,
      );
    }
    const index = this.labelCount;
    if (this.isNamed(reader, quoted, RESERVED)) throw new ScanError(`label name "__name__" is reserved`);
    if (index > 0 && this.repeats(index, reader, quoted)) {
      throw new ScanError(`duplicate label name "${this.nameOf(reader, quoted)}" for metric "${metricName}"`);
    }
    if (step === LabelStep.NoQuote) {
      throw new ScanError(
        `expected '"' at start of the value of label "${this.nameOf(reader, quoted)}", found ${describeByte(this.buf, reader.pos, this.end)}`,
      );
    }
    if (step === LabelStep.BadValue) {
      this.pos = reader.valueStart - 1;
      this.readQuotedValue(atEndOfInput); // words the problem
    }
    if (step === LabelStep.NoSeparator) {
      throw new ScanError(
        `unexpected ${describeByte(this.buf, reader.pos, this.end)} after the value of label "${this.nameOf(reader, quoted)}" (an unescaped '"' inside a value?)`,
      );
    }
    if (quoted !== undefined) this.quotedLabelNames[index] = quoted;
    this.pos = reader.pos;
    this.record(index, reader);
    if (reader.blanks || quoted !== undefined || reader.nul || index >= MAX_CANONICAL_LABELS || this.isSpecial(reader))
      this.canonicalLabels = false;
  }

  private nameOf(reader: LabelReader, quoted: string | undefined): string {
    return quoted ?? this.intern(this.buf.toString('latin1', reader.nameStart, reader.nameEnd));
  }

  /** Whether the label the reader is at is named `word` (bytes of an ASCII name). */
  private isNamed(reader: LabelReader, quoted: string | undefined, word: Buffer): boolean {
    if (quoted !== undefined) return quoted === word.toString('latin1');
    return reader.nameEnd - reader.nameStart === word.length && startsWith(this.buf, reader.nameStart, this.end, word);
  }

  /** `__`-names (validate refuses them) and the bound labels (compared as numbers in a series' identity). */
  private isSpecial(reader: LabelReader): boolean {
    const { buf } = this;
    const start = reader.nameStart;
    const first = buf[start];
    if (first !== Byte.Underscore && first !== SPECIAL_FIRST[0] && first !== SPECIAL_FIRST[1]) return false;
    if (buf[start] === Byte.Underscore && buf[start + 1] === Byte.Underscore && reader.nameEnd - start >= 2) return true;
    for (const bound of BOUND_LABELS) if (this.isNamed(reader, undefined, bound)) return true;
    return false;
  }

  private record(index: number, reader: LabelReader): void {
    if ((index + 1) * SPAN_FIELDS > this.spans.length) {
      const grown = new Int32Array(this.spans.length * 2);
      grown.set(this.spans);
      this.spans = grown;
    }
    const at = index * SPAN_FIELDS;
    this.spans[at] = reader.nameStart;
    this.spans[at + 1] = reader.nameEnd;
    this.spans[at + 2] = reader.valueStart;
    this.spans[at + 3] = reader.valueEnd;
    this.labelCount = index + 1;
  }

  /** Whether an earlier label of the set has the name of the label the reader is at (label `index`). */
  private repeats(index: number, reader: LabelReader, quoted: string | undefined): boolean {
    const { buf, spans } = this;
    if (quoted !== undefined || this.quotedLabelNames.length > 0) {
      const name = this.nameOf(reader, quoted);
      for (let i = 0; i < index; i++) if (this.labelName(i) === name) return true;
      return false;
    }
    const { nameStart, nameEnd } = reader;
    const length = nameEnd - nameStart;
    for (let i = 0; i < index; i++) {
      const at = i * SPAN_FIELDS;
      const start = spans[at] as number;
      // Names of another length, or another first byte, differ: most pairs stop here.
      if ((spans[at + 1] as number) - start !== length || buf[start] !== buf[nameStart]) continue;
      if (compareRanges(buf, start, start + length, nameStart, nameEnd) === 0) return true;
    }
    return false;
  }

  /** A quoted label name, read and judged (quotedLabelName words what is wrong with the quotes: the reader found no closing one). */
  private quotedNameAt(reader: LabelReader, step: LabelStep): string | undefined {
    this.pos = reader.nameStart;
    const name = this.intern(this.quotedLabelName());
    return step === LabelStep.NoName ? undefined : name;
  }
}

/** Label sets longer than this are read, never copied as canonical (the identity order works in a fixed scratch). */
export const MAX_CANONICAL_LABELS = 32;
const RESERVED = Buffer.from('__name__', 'latin1');
const BOUND_LABELS = (['histogram', 'summary'] as const).map((type) => Buffer.from(boundLabel(type) as string, 'latin1'));
/** The first bytes of the bound labels (`l`, `q`): a name starting otherwise is not one. */
const SPECIAL_FIRST = BOUND_LABELS.map((bound) => bound[0] as number);

const EMPTY = Buffer.alloc(0);

/** A construct that crashes node_exporter: the versions seen to panic on it (`crashes`) are named. */
export function crashError(what: string, crashes: (rules: VersionRules) => boolean): ScanError {
  const message = crashMessage(crashes, what);
  return new ScanError(message ?? `${what}: node_exporter crashes on it`, 'crash');
}

/** A quoted name that is not a legacy name: the versions that read quoted names panic on it. */
export const onQuotedNonLegacyName = (rules: VersionRules): boolean => rules.crashesOnQuotedNonLegacyName;

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** One reader serves every line: a label set is read to its end before the next begins. */
const labelReader = new LabelReader();

/** Quoted names (and `\"` in HELP) where no version of the profile reads them. */
const QUOTED_NAMES_UNSUPPORTED = "node_exporter's legacy-name parser rejects the whole file";

/** The closing quote of a value starting at `start` whose escapes are all valid, or -1. */
function quotedClose(buf: Buffer, start: number, end: number): number {
  for (let p = start; p < end; p++) {
    const b = buf[p];
    if (b === Byte.Quote) return p;
    if (b !== Byte.Backslash) continue;
    if (p + 1 >= end || labelValueEscape(buf[p + 1] as number) === undefined) return -1;
    p++;
  }
  return -1;
}

/** The first `byte` in buf[from, to), or -1 (a search bounded by the line, not the chunk). */
function findByte(buf: Buffer, byte: number, from: number, to: number): number {
  for (let p = from; p < to; p++) if (buf[p] === byte) return p;
  return -1;
}

/** The character at `pos` (a whole UTF-8 sequence). */
function codePointAt(buf: Buffer, pos: number, end: number): string {
  let stop = pos + 1;
  while (stop < end && stop < pos + 4 && ((buf[stop] as number) & 0xc0) === 0x80) stop++;
  return buf.toString('utf8', pos, stop);
}

/** The character at `pos`, named for a message. */
export function describeByte(buf: Buffer, pos: number, end: number): string {
  if (pos >= end) return 'end of line';
  if (buf[pos] === 13) return 'a carriage return (CRLF line ending)';
  return JSON.stringify(codePointAt(buf, pos, end));
}

/**
 * Unescape HELP text: `\\` and `\n`, and `\"` (as `"`) when `quoteRefusal`
 * is null; otherwise it says why the profile refuses `\"`.
 */
export function unescapeHelp(raw: string, quoteRefusal: string | null = QUOTED_NAMES_UNSUPPORTED): string {
  if (!raw.includes('\\')) return raw;
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const char = raw[i];
    if (char !== '\\') {
      out += char;
      continue;
    }
    const next = raw[i + 1];
    const escaped = next === undefined ? undefined : helpEscape(next.charCodeAt(0), quoteRefusal === null);
    if (escaped !== undefined) out += escaped;
    else if (next === '"') throw new ScanError(`escape sequence '\\"' in HELP text: ${quoteRefusal}`, 'help-escape');
    else if (next === undefined) throw new ScanError(`HELP text ends with a lone backslash`);
    else throw new ScanError(`invalid escape sequence '\\${next}' in HELP text (only \\\\ and \\n are allowed)`);
    i++;
  }
  return out;
}

/**
 * HELP text at buf[start, end) that unescapeHelp reads and the writer prints
 * back unchanged: non-empty, no leading blank, no trailing CR, no NUL, escapes
 * `\\` and `\n` only.
 */
export function isCanonicalHelp(buf: Uint8Array, start: number, end: number): boolean {
  if (start >= end || isBlank(buf[start] as number) || buf[end - 1] === 13) return false;
  for (let p = start; p < end; p++) {
    const b = buf[p];
    if (b === 0) return false;
    if (b === Byte.Backslash && helpEscape(buf[++p] as number, false) === undefined) return false;
  }
  return true;
}
