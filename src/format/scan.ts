// Low-level scanning of one line of exposition text, shared by the file
// parser and the series arguments of the CLI. Grammar as in node_exporter's
// parser (prometheus/common expfmt): legacy names, and quoted names where the
// profile's node_exporter versions all read them.
import { crashMessage } from './profile.js';
import { LabelReader, LabelStep } from './labels.js';
import { Byte, helpEscape, isBlank, isLabelName, labelValueEscape, nameEnd, NameKind } from './lex.js';
import type { Rule } from './types.js';

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

/** A cursor over one line (without its newline). */
export class LineCursor {
  pos = 0;
  /**
   * `names`: label names seen so far, shared across the lines of one file, so
   * a million samples share a few name strings instead of holding a copy each.
   * `quotedNameRefusal`: why quoted (UTF-8 syntax) names are refused, or
   * null when they are read.
   */
  constructor(
    readonly text: string,
    private readonly names?: Map<string, string>,
    private readonly quotedNameRefusal: string | null = QUOTED_NAMES_UNSUPPORTED,
  ) {}

  /** A quoted name (`"..."`, label-value escapes) starting at the quote; refused unless the profile reads them. */
  readQuotedName(what: string): string {
    const name = this.readQuotedValue(false);
    if (this.quotedNameRefusal !== null) throw new ScanError(`${what} "${name}" is quoted: ${this.quotedNameRefusal}`, 'quoted-name');
    return name;
  }

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): number {
    return this.text.charCodeAt(this.pos);
  }

  skipBlanks(): void {
    while (this.pos < this.text.length && isBlank(this.text.charCodeAt(this.pos))) this.pos++;
  }

  /** A metric name (lex.ts); returns '' when none starts here. */
  readMetricName(): string {
    const start = this.pos;
    this.pos = nameEnd(this.text, start, this.text.length, NameKind.Metric);
    return this.text.slice(start, this.pos);
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

  /** Characters up to the next blank or the end of the line. */
  readToken(): string {
    const start = this.pos;
    while (this.pos < this.text.length && !isBlank(this.text.charCodeAt(this.pos))) this.pos++;
    return this.text.slice(start, this.pos);
  }

  rest(): string {
    const rest = this.text.slice(this.pos);
    this.pos = this.text.length;
    return rest;
  }

  /**
   * A quoted label value starting at the opening quote. Escapes: `\\`, `\"`, `\n`.
   * `atEndOfInput` tells whether the line ended the input without a newline.
   */
  readQuotedValue(atEndOfInput: boolean): string {
    const text = this.text;
    let pos = this.pos + 1;
    // Fast path: no escape before the closing quote (lines hold no newline).
    const quote = text.indexOf('"', pos);
    if (quote !== -1) {
      const backslash = text.indexOf('\\', pos);
      if (backslash === -1 || backslash > quote) {
        this.pos = quote + 1;
        return text.slice(pos, quote);
      }
    }
    let start = pos;
    let value = '';
    while (pos < text.length) {
      const code = text.charCodeAt(pos);
      if (code === Byte.Quote) {
        this.pos = pos + 1;
        return value + text.slice(start, pos);
      }
      if (code === Byte.Backslash) {
        value += text.slice(start, pos);
        const next = text[pos + 1];
        if (next === undefined) break;
        const escaped = labelValueEscape(next.charCodeAt(0));
        if (escaped !== undefined) value += escaped;
        else throw new ScanError(`invalid escape sequence '\\${next}' in label value (only \\\\, \\" and \\n are allowed)`);
        pos += 2;
        start = pos;
        continue;
      }
      pos++;
    }
    if (atEndOfInput) throw new ScanError('unexpected end of input inside a label value');
    throw new ScanError(`label value "${value + text.slice(start)}" contains an unescaped new-line or lacks its closing quote`);
  }

  /** A quoted label name; one that is not a legacy name crashes the versions that read quoted names. */
  private quotedLabelName(): string {
    const start = this.pos;
    const name = this.readQuotedValue(false);
    const crash = isLabelName(name) ? undefined : crashMessage((rules) => rules.quotedNames, `quoted label name "${name}"`);
    if (crash !== undefined) throw new ScanError(crash, 'crash');
    this.pos = start;
    return this.readQuotedName('label name');
  }

  /**
   * A label set starting at `{`, as node_exporter reads it (labels.ts reads
   * its grammar): the labels, or the first thing wrong with them, worded.
   */
  readLabels(metricName: string, atEndOfInput: boolean): Record<string, string> {
    const labels: Record<string, string> = {};
    const { text } = this;
    const reader = labelReader;
    reader.start(this.pos);
    for (;;) {
      const step = reader.next(text, text.length);
      this.pos = reader.pos;
      if (step === LabelStep.Close) return labels;
      if (step === LabelStep.EndOfLine) throw new ScanError(`unexpected end of line in the labels of "${metricName}"`);
      const name = this.labelName(reader, step, metricName);
      if (step === LabelStep.NoEquals) {
        throw new ScanError(`expected '=' after label name "${name}", found ${describeChar(text, reader.pos)}`);
      }
      if (name === '__name__') throw new ScanError(`label name "__name__" is reserved`);
      if (Object.hasOwn(labels, name)) throw new ScanError(`duplicate label name "${name}" for metric "${metricName}"`);
      if (step === LabelStep.NoQuote) {
        throw new ScanError(`expected '"' at start of the value of label "${name}", found ${describeChar(text, reader.pos)}`);
      }
      // The value, unescaped; a bad one is worded by readQuotedValue.
      this.pos = reader.valueStart - 1;
      labels[name] = this.internValue(this.readQuotedValue(atEndOfInput));
      this.pos = reader.pos;
      if (step === LabelStep.LastLabel) return labels;
      if (step === LabelStep.NoSeparator) {
        throw new ScanError(
          `unexpected ${describeChar(text, reader.pos)} after the value of label "${name}" (an unescaped '"' inside a value?)`,
        );
      }
    }
  }

  /** The name of the label the reader is at (a quoted one read and judged here); a missing one is an error. */
  private labelName(reader: LabelReader, step: LabelStep, metricName: string): string {
    if (reader.quotedName) {
      // quotedLabelName words what is wrong with the quotes (the reader found no closing one: NoName).
      this.pos = reader.nameStart;
      const name = this.intern(this.quotedLabelName());
      if (step !== LabelStep.NoName) return name;
    }
    if (step === LabelStep.NoName) throw new ScanError(`invalid label name for metric "${metricName}"`);
    return this.intern(this.text.slice(reader.nameStart, reader.nameEnd));
  }
}

/** One reader serves every line: a label set is read to its end before the next begins. */
const labelReader = new LabelReader();

/** Quoted names (and `\"` in HELP) where no version of the profile reads them. */
const QUOTED_NAMES_UNSUPPORTED = "node_exporter's legacy-name parser rejects the whole file";

export function describeChar(text: string, pos: number): string {
  if (pos >= text.length) return 'end of line';
  const char = text[pos] as string;
  if (char === '\r') return 'a carriage return (CRLF line ending)';
  return JSON.stringify(char);
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
