// Byte-level reading of the common line shapes, for the fast path
// (fast-scan.ts). Every function here either recognises a line exactly as the
// strict parser would read it, in canonical form (or with a value to respell),
// or says "not mine" and leaves the line to the strict parser. The grammar
// itself (names, escapes, label sets) is read by lex.ts and labels.ts, as the
// strict parser reads it; what is here is the test for canonical form.
import { LabelReader, LabelStep } from './labels.js';
import { boundLabel } from './shape.js';
import { MAX_SERIES_LABEL_CHARS } from './validate.js';
import { Byte, helpEscape, isBlank, nameEnd, NameKind } from './lex.js';

// Byte stays importable from here for check.ts, which reads sample lines with sampleHasLabel.
export { Byte } from './lex.js';

/** End of the metric name starting at `pos` (`pos` itself when there is none). */
export function metricNameEnd(buf: Uint8Array, pos: number, end: number): number {
  return nameEnd(buf, pos, end, NameKind.Metric);
}

/** Label names found by readLabels, as [nameStart, nameEnd, valueStart, valueEnd] per label. */
export const MAX_LABELS = 32;
export const labelSpans = new Int32Array(MAX_LABELS * 4);

const reader = new LabelReader();

/**
 * Read `{name="value",...}` from `pos` (at '{') to the line's `end` in canonical
 * form: no blanks, no trailing comma, no quoted name, valid escapes, no NUL,
 * no reserved or bucket-bound names. Returns the position after '}' and fills
 * labelSpans, or -1 when the strict parser must read it.
 */
export function readLabels(buf: Uint8Array, pos: number, end: number): number {
  // A label set this long is the strict parser's, which judges whether the series would make a scrape slow.
  if (end - pos > MAX_SERIES_LABEL_CHARS) return -1;
  reader.start(pos);
  let count = 0;
  for (;;) {
    const step = reader.next(buf, end);
    if (step !== LabelStep.Label && step !== LabelStep.LastLabel) return -1;
    if (count === MAX_LABELS || reader.blanks || reader.quotedName || isSpecialLabel(buf, reader.nameStart, reader.nameEnd)) return -1;
    const at = count * 4;
    labelSpans[at] = reader.nameStart;
    labelSpans[at + 1] = reader.nameEnd;
    labelSpans[at + 2] = reader.valueStart;
    labelSpans[at + 3] = reader.valueEnd;
    count++;
    if (step === LabelStep.LastLabel) {
      labelCount = count;
      return reader.pos;
    }
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
  if (buf[nameEnd] !== Byte.OpenBrace || readLabels(buf, nameEnd, end) === -1) return undefined;
  for (let i = 0; i < labelCount; i++) {
    const at = i * 4;
    const nameStart = labelSpans[at] as number;
    if ((labelSpans[at + 1] as number) - nameStart === name.length && startsWith(buf, nameStart, end, name)) return true;
  }
  return false;
}

/** How many labels the last successful readLabels found. */
export let labelCount = 0;

/**
 * `__`-names are refused; the bound labels (`le`, `quantile`: shape.ts) are
 * compared as numbers in series keys: the strict path handles all three.
 */
function isSpecialLabel(buf: Uint8Array, start: number, end: number): boolean {
  if (end - start >= 2 && buf[start] === Byte.Underscore && buf[start + 1] === Byte.Underscore) return true;
  for (let i = 0; i < BOUND_LABELS.length; i++) {
    const bound = BOUND_LABELS[i] as Uint8Array;
    if (end - start === bound.length && startsWith(buf, start, end, bound)) return true;
  }
  return false;
}

const BOUND_LABELS = (['histogram', 'summary'] as const).map((type) => Buffer.from(boundLabel(type) as string, 'latin1'));

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
 * HELP text at buf[start, end) that the writer prints back unchanged:
 * non-empty, no leading blank, no trailing CR, no NUL, escapes `\\` and `\n` only.
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

/** Does buf[pos, ...) start with the ASCII text `prefix`? */
export function startsWith(buf: Uint8Array, pos: number, end: number, prefix: Uint8Array): boolean {
  if (end - pos < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[pos + i] !== prefix[i]) return false;
  return true;
}
