// Numbers as node_exporter reads them: expfmt's parseFloat is Go's
// strconv.ParseFloat with 'p', 'P' and '_' refused first. One home for both
// readers: text (parseGoFloat) and, for the fast path, bytes (isValidValue,
// canonicalValue), which settle the common decimals without a string and
// ask parseGoFloat about the rest.
import { Byte } from './lex.js';

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INFINITY = /^[+-]?(?:inf|infinity)$/i;
const NAN = /^nan$/i;

/**
 * Parse a value the way Go's ParseFloat does, or return undefined.
 * Out-of-range values (`1e400`) are refused, as Go returns an error for them.
 */
export function parseGoFloat(text: string): number | undefined {
  if (DECIMAL.test(text)) {
    const value = Number(text);
    return Number.isFinite(value) ? value : undefined;
  }
  if (INFINITY.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (NAN.test(text)) return NaN;
  return undefined;
}

/** Format a value so Go parses it back to the same float (shortest round trip). */
export function formatGoFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (Object.is(value, -0)) return '-0';
  return String(value);
}

/** Why a value text is refused, for error messages. */
export function describeBadFloat(text: string): string {
  if (text === '') return 'empty value';
  if (/^[+-]?\d{1,3}(?:,\d{3})+$/.test(text))
    return `"${text}" has a "," (node_exporter refuses it): for ${text.replace(/,/g, '')}, drop the separator; a decimal comma would be ${text.replace(',', '.')} (set LC_NUMERIC=C in scripts)`;
  if (/^[+-]?\d+,\d+/.test(text)) return `"${text}" uses a decimal comma (write ${text.replace(',', '.')}; set LC_NUMERIC=C in scripts)`;
  if (/^[+-]?0[xX]/.test(text)) return `"${text}" is hexadecimal, which node_exporter refuses`;
  if (text.includes('_')) return `"${text}" contains "_", which node_exporter refuses`;
  if (DECIMAL.test(text)) return `"${text}" is out of the float64 range`;
  return `"${text}" is not a number (Go float syntax, NaN, +Inf or -Inf)`;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
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
  while (p < end && isDigit(buf[p] as number)) p++;
  decimal.intLength = p - decimal.intStart;
  decimal.fracStart = -1;
  if (decimal.intLength === 0) return false;
  if (p === end) return true;
  if (buf[p] !== Byte.Dot) return false;
  const fracStart = ++p;
  decimal.fracStart = fracStart;
  while (p < end && isDigit(buf[p] as number)) p++;
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
