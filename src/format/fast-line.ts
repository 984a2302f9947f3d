// Byte-level reading of the common line shapes, for the fast path
// (fast-scan.ts). Every function here either recognises a line exactly as the
// strict parser would read it, in canonical form (or with a value to respell),
// or says "not mine" and leaves the line to the strict parser.
import { formatGoFloat, parseGoFloat } from './number.js';

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
  Equals = 61,
  Backslash = 92,
  Underscore = 95,
  LowerN = 110,
  OpenBrace = 123,
  CloseBrace = 125,
}

const LETTER = 1;
const DIGIT = 2;
const COLON = 4;
/** Character classes of ASCII bytes: LETTER includes '_'. */
const CLASS = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const ch = String.fromCharCode(c);
  if (/[a-zA-Z_]/.test(ch)) CLASS[c] = LETTER;
  else if (/[0-9]/.test(ch)) CLASS[c] = DIGIT;
  else if (ch === ':') CLASS[c] = COLON;
}

export function isBlankByte(b: number): boolean {
  return b === Byte.Space || b === Byte.Tab;
}

/** End of the metric name `[a-zA-Z_:][a-zA-Z0-9_:]*` starting at `pos` (`pos` itself when there is none). */
export function metricNameEnd(buf: Uint8Array, pos: number, end: number): number {
  if (pos >= end || ((CLASS[buf[pos] as number] as number) & (LETTER | COLON)) === 0) return pos;
  let p = pos + 1;
  while (p < end && (CLASS[buf[p] as number] as number) !== 0) p++;
  return p;
}

/** Label names found by readLabels, as [nameStart, nameEnd, valueStart, valueEnd] per label. */
export const MAX_LABELS = 32;
export const labelSpans = new Int32Array(MAX_LABELS * 4);

/**
 * Read `{name="value",...}` from `pos` (at '{') in canonical form: no blanks, no
 * trailing comma, valid escapes, no NUL, no reserved or bucket-bound names.
 * Returns the position after '}' and fills labelSpans, or -1 when the strict parser must read it.
 */
export function readLabels(buf: Uint8Array, pos: number): number {
  let p = pos + 1;
  let count = 0;
  for (;;) {
    if (count === MAX_LABELS || (CLASS[buf[p] as number] as number) !== LETTER) return -1;
    const nameStart = p++;
    while ((CLASS[buf[p] as number] as number) & (LETTER | DIGIT)) p++;
    const nameEnd = p;
    if (buf[p] !== Byte.Equals || buf[p + 1] !== Byte.Quote || isSpecialLabel(buf, nameStart, nameEnd)) return -1;
    p += 2;
    const valueStart = p;
    p = quotedValueEnd(buf, p);
    if (p === -1) return -1;
    const at = count * 4;
    labelSpans[at] = nameStart;
    labelSpans[at + 1] = nameEnd;
    labelSpans[at + 2] = valueStart;
    labelSpans[at + 3] = p;
    count++;
    p++; // closing quote
    const next = buf[p++];
    if (next === Byte.CloseBrace) {
      labelCount = count;
      return p;
    }
    if (next !== Byte.Comma) return -1;
  }
}

/**
 * Whether the line buf[start, end) of a block the scanner checked on bytes
 * (comments, blank lines, canonical samples from column 0) is a sample with
 * the label `name`; undefined when it has another shape (the strict parser
 * must read it).
 */
export function sampleHasLabel(buf: Uint8Array, start: number, end: number, name: Uint8Array): boolean | undefined {
  const first = buf[start];
  if (start === end || first === Byte.Hash || first === Byte.Space || first === Byte.Tab) return false;
  const nameEnd = metricNameEnd(buf, start, end);
  if (nameEnd === start) return undefined;
  if (buf[nameEnd] === Byte.Space) return false;
  if (buf[nameEnd] !== Byte.OpenBrace || readLabels(buf, nameEnd) === -1) return undefined;
  for (let i = 0; i < labelCount; i++) {
    const at = i * 4;
    const nameStart = labelSpans[at] as number;
    if ((labelSpans[at + 1] as number) - nameStart === name.length && startsWith(buf, nameStart, end, name)) return true;
  }
  return false;
}

/** How many labels the last successful readLabels found. */
export let labelCount = 0;

/** Bytes that end the plain run of a label value: quote, backslash, newline, NUL. */
const VALUE_STOP = new Uint8Array(256);
for (const b of [Byte.Quote, Byte.Backslash, Byte.Newline, 0]) VALUE_STOP[b] = 1;

/** Position of the closing quote of a value starting at `pos`, or -1 when it holds anything unusual. */
function quotedValueEnd(buf: Uint8Array, pos: number): number {
  let p = pos;
  for (;;) {
    while (VALUE_STOP[buf[p] as number] === 0) p++;
    const b = buf[p];
    if (b === Byte.Quote) return p;
    if (b !== Byte.Backslash) return -1; // newline, NUL, or the end of the buffer
    const escaped = buf[p + 1];
    if (escaped !== Byte.Backslash && escaped !== Byte.Quote && escaped !== Byte.LowerN) return -1;
    p += 2;
  }
}

/**
 * `__`-names are refused; `le` and `quantile` values are compared as numbers
 * in series keys: the strict path handles all three.
 */
function isSpecialLabel(buf: Uint8Array, start: number, end: number): boolean {
  const length = end - start;
  if (length >= 2 && buf[start] === Byte.Underscore && buf[start + 1] === Byte.Underscore) return true;
  if (length === 2) return buf[start] === 108 && buf[start + 1] === 101; // le
  return length === QUANTILE.length && startsWith(buf, start, end, QUANTILE);
}

const QUANTILE = Buffer.from('quantile', 'latin1');

/** Byte order of two ranges of `buf` (as Go and JS compare ASCII names). */
export function compareRanges(buf: Uint8Array, a: number, aEnd: number, b: number, bEnd: number): number {
  const length = Math.min(aEnd - a, bEnd - b);
  for (let i = 0; i < length; i++) {
    const diff = (buf[a + i] as number) - (buf[b + i] as number);
    if (diff !== 0) return diff;
  }
  return aEnd - a - (bEnd - b);
}

/**
 * The value at buf[start, end): '' when it is canonical as it stands, the
 * canonical spelling when it must be rewritten, undefined when the strict
 * parser must judge it (not a float, a timestamp, a negative counter).
 */
export function canonicalValue(buf: Uint8Array, start: number, end: number, counter: boolean): string | undefined {
  const simple = simpleDecimal(buf, start, end);
  if (simple === 1) return '';
  if (simple === -1) return counter ? undefined : '';
  const text = Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
  const value = parseGoFloat(text);
  if (value === undefined || (counter && value < 0)) return undefined;
  const canonical = formatGoFloat(value);
  return canonical === text ? '' : canonical;
}

/** Whether the strict parser takes the value at buf[start, end) as it is: what canonicalValue checks, without the respelling. */
export function isValidValue(buf: Uint8Array, start: number, end: number, counter: boolean): boolean {
  // `-?digits(.digits)?` below 1e308 is a finite float: no string needed (the long digits of a float's spelling included).
  if (readDecimal(buf, start, end) && decimal.intLength <= 308) return !decimal.negative || !counter;
  const value = parseGoFloat(Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1'));
  return value !== undefined && !(counter && value < 0);
}

/** The parts of the value readDecimal read last. */
const decimal = { negative: false, intStart: 0, intLength: 0, fracStart: -1 };

/** Is buf[start, end) exactly `-?digits(.digits)?`? Its parts are left in `decimal`. */
function readDecimal(buf: Uint8Array, start: number, end: number): boolean {
  let p = start;
  decimal.negative = buf[p] === Byte.Minus;
  if (decimal.negative) p++;
  decimal.intStart = p;
  while (p < end && CLASS[buf[p] as number] === DIGIT) p++;
  decimal.intLength = p - decimal.intStart;
  decimal.fracStart = -1;
  if (decimal.intLength === 0) return false;
  if (p === end) return true;
  if (buf[p] !== Byte.Dot) return false;
  const fracStart = ++p;
  decimal.fracStart = fracStart;
  while (p < end && CLASS[buf[p] as number] === DIGIT) p++;
  return p === end && p > fracStart;
}

/**
 * Decimals that JavaScript prints back unchanged: no sign but '-', no leading
 * or trailing zero, at most 15 significant digits, not below 1e-6. Returns 1
 * (non-negative), -1 (negative) or 0 (look closer).
 */
function simpleDecimal(buf: Uint8Array, start: number, end: number): number {
  if (!readDecimal(buf, start, end)) return 0;
  const { intStart, intLength, fracStart } = decimal;
  if (intLength > 1 && buf[intStart] === Byte.Zero) return 0;
  let significant = intLength;
  if (fracStart !== -1) {
    if (buf[end - 1] === Byte.Zero) return 0;
    if (intLength === 1 && buf[intStart] === Byte.Zero) {
      let zeros = 0;
      while (buf[fracStart + zeros] === Byte.Zero) zeros++;
      if (zeros > 5) return 0;
      significant = end - fracStart - zeros;
    } else significant += end - fracStart;
  }
  if (significant > 15) return 0;
  return decimal.negative ? -1 : 1;
}

/**
 * HELP text at buf[start, end) that the writer prints back unchanged:
 * non-empty, no leading blank, no trailing CR, no NUL, escapes `\\` and `\n` only.
 */
export function isCanonicalHelp(buf: Uint8Array, start: number, end: number): boolean {
  if (start >= end || isBlankByte(buf[start] as number) || buf[end - 1] === 13) return false;
  for (let p = start; p < end; p++) {
    const b = buf[p];
    if (b === 0) return false;
    if (b === Byte.Backslash) {
      const escaped = buf[++p];
      if (escaped !== Byte.Backslash && escaped !== Byte.LowerN) return false;
    }
  }
  return true;
}

/** Does buf[pos, ...) start with the ASCII text `prefix`? */
export function startsWith(buf: Uint8Array, pos: number, end: number, prefix: Uint8Array): boolean {
  if (end - pos < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[pos + i] !== prefix[i]) return false;
  return true;
}
