// The target-label rule (check's `target-label`): a series with a `job` or
// `instance` label collides with the labels Prometheus gives every target.
// One home, used by check (on parsed families and on scanned blocks) and by
// the writers, which print the same warning when they write such a series.
import { Byte } from '../format/lex.js';
import { LineCursor, ScanError } from '../format/scan.js';
import type { FastBlock } from '../format/fast-scan.js';
import { readExposition } from '../format/parse.js';
import type { Profile } from '../format/profile.js';
import type { MetricFamily, Sample } from '../format/types.js';

const TARGET_LABELS = ['job', 'instance'] as const;

function targetLabelMessage(label: string, family: string): string {
  return `label "${label}" of "${family}" collides with the "${label}" target label: Prometheus renames it to "exported_${label}" (unless honor_labels is set)`;
}

/** For each target label the family's samples carry: its first sample with it, and the warning. */
export function targetLabelsOf(family: MetricFamily): Array<{ label: string; sample: Sample; message: string }> {
  const found: Array<{ label: string; sample: Sample; message: string }> = [];
  for (const label of TARGET_LABELS) {
    const sample = family.samples.find((s) => label in s.labels);
    if (sample) found.push({ label, sample, message: targetLabelMessage(label, family.name) });
  }
  return found;
}

/** The warnings for one scanned family block, each at the line of its first sample with the label. */
export function targetLabelLines(name: string, block: FastBlock, profile: Profile): Array<{ message: string; line: number }> {
  const found: Array<{ message: string; line: number }> = [];
  for (const label of TARGET_LABELS) {
    const line = firstLineWithLabel(block, label, profile);
    if (line !== undefined) found.push({ message: targetLabelMessage(label, name), line });
  }
  return found;
}

/** The line of a block's first sample with `label`: only lines that name it are parsed. */
function firstLineWithLabel(block: FastBlock, label: string, profile: Profile): number | undefined {
  const word = Buffer.from(label, 'latin1');
  let line = block.line;
  for (const piece of block.raw) {
    const bytes = Buffer.from(piece.buffer, piece.byteOffset, piece.length);
    let counted = 0;
    for (let at = bytes.indexOf(word); at !== -1;) {
      const start = bytes.lastIndexOf(Byte.Newline, at) + 1;
      const end = bytes.indexOf(Byte.Newline, at);
      line += countNewlines(bytes, counted, start);
      counted = start;
      const lineEnd = end === -1 ? bytes.length : end;
      // A block checked on bytes has canonical sample lines: their label names are read without a parse.
      const known = block.parsed === undefined ? sampleHasLabel(bytes, start, lineEnd, label) : undefined;
      if (known ?? hasLabelByParse(bytes.toString('utf8', start, lineEnd), label, profile)) return line;
      if (end === -1) break;
      at = bytes.indexOf(word, end);
    }
    line += countNewlines(bytes, counted, bytes.length);
  }
  return undefined;
}

function hasLabelByParse(line: string, label: string, profile: Profile): boolean {
  const sample = readExposition(`${line}\n`, { profile }).families[0]?.samples[0];
  return sample !== undefined && label in sample.labels;
}

function countNewlines(bytes: Buffer, start: number, end: number): number {
  let count = 0;
  for (let at = bytes.indexOf(Byte.Newline, start); at !== -1 && at < end; at = bytes.indexOf(Byte.Newline, at + 1)) count++;
  return count;
}

const cursor = new LineCursor();

/**
 * Whether the line buf[start, end) of a block checked on bytes (comments,
 * blank lines, canonical samples from column 0) is a sample with the label
 * `name`; undefined when it has another shape (a parse must decide).
 */
function sampleHasLabel(buf: Buffer, start: number, end: number, name: string): boolean | undefined {
  const first = buf[start];
  if (start === end || first === Byte.Hash || first === Byte.Space || first === Byte.Tab) return false;
  cursor.reset(buf, start, end);
  const metric = cursor.readMetricName();
  if (metric === '') return undefined;
  if (cursor.peek() === Byte.Space) return false;
  if (cursor.peek() !== Byte.OpenBrace) return undefined;
  try {
    cursor.readLabelSpans(metric, false);
  } catch (error) {
    if (error instanceof ScanError) return undefined;
    throw error;
  }
  if (!cursor.canonicalLabels) return undefined;
  for (let i = 0; i < cursor.labelCount; i++) if (cursor.labelName(i) === name) return true;
  return false;
}
