// The lexical rules of the text format, for the one line reader (scan.ts,
// on bytes) and for names and text given as strings (the model, the CLI's
// arguments). Names are ASCII, so a character code and a byte look up the
// same table; a name is never longer as text than as bytes.
import { isUtf8 } from 'node:buffer';
import { METRIC_TYPES, type MetricType } from './types.js';

export const enum Byte {
  Tab = 9,
  Newline = 10,
  Space = 32,
  Quote = 34,
  Hash = 35,
  Comma = 44,
  Minus = 45,
  Dot = 46,
  Zero = 48,
  Colon = 58,
  Equals = 61,
  Backslash = 92,
  Underscore = 95,
  LowerN = 110,
  OpenBrace = 123,
  CloseBrace = 125,
}

/** What a name may start with, and continue with: node_exporter's legacy names. */
export const enum NameKind {
  /** `[a-zA-Z_:][a-zA-Z0-9_:]*` */
  Metric = 1,
  /** `[a-zA-Z_][a-zA-Z0-9_]*` */
  Label = 2,
}

/** Bit NameKind set: the byte may start that kind of name; shifted left by 2: it may continue it. */
const NAME_CLASS = new Uint8Array(256);
for (let code = 0; code < 128; code++) {
  const char = String.fromCharCode(code);
  const letter = /[a-zA-Z_]/.test(char);
  const digit = /[0-9]/.test(char);
  const colon = char === ':';
  if (letter) NAME_CLASS[code] = NameKind.Metric | NameKind.Label | ((NameKind.Metric | NameKind.Label) << 2);
  else if (digit) NAME_CLASS[code] = (NameKind.Metric | NameKind.Label) << 2;
  else if (colon) NAME_CLASS[code] = NameKind.Metric | (NameKind.Metric << 2);
}

/** Characters of a line as codes: a string's char codes or a buffer's bytes. */
export type Codes = string | Uint8Array;

/** The code at `pos`: a character's, or a byte. */
export function codeAt(codes: Codes, pos: number): number {
  return typeof codes === 'string' ? codes.charCodeAt(pos) : (codes[pos] as number);
}

function nameClass(code: number): number {
  return code < 256 ? (NAME_CLASS[code] as number) : 0;
}

/** End of the name of `kind` starting at `pos` (`pos` itself when none starts there). */
export function nameEnd(codes: Codes, pos: number, end: number, kind: NameKind): number {
  if (pos >= end || (nameClass(codeAt(codes, pos)) & kind) === 0) return pos;
  const rest = kind << 2;
  let p = pos + 1;
  // One loop per representation: the fast path runs this for every label of a million lines.
  if (typeof codes === 'string') while (p < end && (nameClass(codes.charCodeAt(p)) & rest) !== 0) p++;
  else while (p < end && ((NAME_CLASS[codes[p] as number] as number) & rest) !== 0) p++;
  return p;
}

/** Whether `name` is a legacy metric name. */
export function isMetricName(name: string): boolean {
  return name.length > 0 && nameEnd(name, 0, name.length, NameKind.Metric) === name.length;
}

/** Whether `name` is a legacy label name. */
export function isLabelName(name: string): boolean {
  return name.length > 0 && nameEnd(name, 0, name.length, NameKind.Label) === name.length;
}

export function isBlank(code: number): boolean {
  return code === Byte.Space || code === Byte.Tab;
}

/** The first position from `pos` that is not a blank. */
export function skipBlanks(codes: Codes, pos: number, end: number): number {
  let p = pos;
  if (typeof codes === 'string') while (p < end && isBlank(codes.charCodeAt(p))) p++;
  else while (p < end && isBlank(codes[p] as number)) p++;
  return p;
}

/** A `# HELP name …` or `# TYPE name …` line, up to its name. */
export interface Directive {
  readonly help: boolean;
  readonly nameStart: number;
  /** Where a legacy name ends (`nameStart` when none starts there); -1 for a quoted name, which the reader reads. */
  readonly nameEnd: number;
}

const HELP = [72, 69, 76, 80];
const TYPE = [84, 89, 80, 69];

function isWord(codes: Codes, pos: number, word: readonly number[]): boolean {
  return word.every((code, i) => codeAt(codes, pos + i) === code);
}

/**
 * The keyword and name of a comment whose text starts at `pos` (after its
 * '#'), as node_exporter reads them: blanks, HELP or TYPE, blanks, the name.
 * Undefined for a comment node_exporter ignores: another word, or a line
 * that ends before a blank follows the word, or with the name.
 */
export function readDirective(codes: Codes, pos: number, end: number): Directive | undefined {
  const word = skipBlanks(codes, pos, end);
  let p = word;
  while (p < end && !isBlank(codeAt(codes, p))) p++;
  if (p === end || p - word !== 4) return undefined;
  const help = isWord(codes, word, HELP);
  if (!help && !isWord(codes, word, TYPE)) return undefined;
  const nameStart = skipBlanks(codes, p, end);
  if (nameStart < end && codeAt(codes, nameStart) === Byte.Quote) return { help, nameStart, nameEnd: -1 };
  const legacyEnd = nameEnd(codes, nameStart, end, NameKind.Metric);
  return legacyEnd === end ? undefined : { help, nameStart, nameEnd: legacyEnd };
}

/**
 * Add to `into` the numbers of the lines of `bytes` that hold invalid UTF-8,
 * its first line being `firstLine`: node_exporter refuses them in samples only.
 */
export function invalidUtf8Lines(bytes: Uint8Array, firstLine: number, into: Set<number>): Set<number> {
  let line = firstLine;
  let start = 0;
  for (;;) {
    const end = bytes.indexOf(Byte.Newline, start);
    const stop = end === -1 ? bytes.length : end;
    if (!isUtf8(bytes.subarray(start, stop))) into.add(line);
    if (end === -1) return into;
    start = end + 1;
    line++;
  }
}

/** What `\x` stands for in a label value (x as a code); undefined for an escape node_exporter refuses. */
export function labelValueEscape(code: number): string | undefined {
  if (code === Byte.Backslash) return '\\';
  if (code === Byte.Quote) return '"';
  return code === Byte.LowerN ? '\n' : undefined;
}

/** What `\x` stands for in HELP text: `\\` and `\n`, and `\"` where every version of the profile reads it. */
export function helpEscape(code: number, quote: boolean): string | undefined {
  if (code === Byte.Backslash) return '\\';
  if (code === Byte.LowerN) return '\n';
  return quote && code === Byte.Quote ? '"' : undefined;
}

// The writer's side of the same escapes: what the readers above turn back into the text.
const LABEL_VALUE_SPECIAL = /[\\"\n]/;
const HELP_SPECIAL = /[\\\n]/;

export function escapeLabelValue(value: string): string {
  if (!LABEL_VALUE_SPECIAL.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function escapeHelp(help: string): string {
  if (!HELP_SPECIAL.test(help)) return help;
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** The type a TYPE line names (case is ignored); `gauge_histogram` for a gauge histogram; undefined for any other word. */
export function typeWord(text: string): MetricType | 'gauge_histogram' | undefined {
  const word = text.toLowerCase();
  if ((METRIC_TYPES as readonly string[]).includes(word)) return word as MetricType;
  return word === 'gauge_histogram' ? word : undefined;
}

/** Byte order of two ranges of `buf` (as Go and JS compare ASCII names). */
export function compareRanges(buf: Uint8Array, a: number, aEnd: number, b: number, bEnd: number): number {
  const length = Math.min(aEnd - a, bEnd - b);
  for (let i = 0; i < length; i++) {
    const diff = (buf[a + i] as number) - (buf[b + i] as number);
    if (diff !== 0) return diff;
  }
  return aEnd - a - (bEnd - b);
}

/** Does buf[pos, ...) start with the ASCII text `prefix`? */
export function startsWith(buf: Uint8Array, pos: number, end: number, prefix: Uint8Array): boolean {
  if (end - pos < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[pos + i] !== prefix[i]) return false;
  return true;
}
