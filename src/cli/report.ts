// What the commands print on stdout: `--format json` of the writing commands
// (one object saying what happened to the file, for configuration
// management's `changed_when`), and check's and ls's text or JSON.
import { countSeries } from '../format/model.js';
import { formatGoFloat } from '../format/number.js';
import { readExposition } from '../format/parse.js';
import type { Profile } from '../format/profile.js';
import type { MetricFamily, Problem, Severity } from '../format/types.js';
import type { CheckResult } from '../inspect/check-target.js';
import type { FileRow } from '../inspect/ls.js';
import { formatAge } from '../textfile/inventory.js';
import { seriesKey } from '../format/validate.js';
import { readTextfile } from '../textfile/files.js';
import { reportNotices } from './common.js';
import { printable, printableLines } from '../errors.js';
import { targetLabelsOf } from '../inspect/target-labels.js';
import type { CliIo, CommandContext } from './io.js';

/** The file's content as series: HELP, TYPE and every series with its value, order and formatting aside. */
export function seriesOf(families: readonly MetricFamily[]): Set<string> {
  const series = new Set<string>();
  for (const family of families) {
    series.add(`${family.name}\u0000${family.type}\u0000${family.help ?? ''}`);
    for (const sample of family.samples) series.add(`${seriesKey(sample.name, sample.labels)}\u0002${formatGoFloat(sample.value)}`);
  }
  return series;
}

/** The series of the file as it is now (none when missing or unreadable). */
export async function seriesOfFile(path: string): Promise<Set<string>> {
  const bytes = await readTextfile(path).catch(() => undefined);
  return bytes === undefined ? new Set() : seriesOf(readExposition(bytes).families);
}

export function sameSeries(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((entry) => b.has(entry));
}

export interface WriteReport {
  readonly file: string;
  readonly changed: boolean;
  readonly written: boolean;
  readonly dryRun: boolean;
  readonly series?: number;
  readonly [extra: string]: unknown;
}

/** Print the report as one JSON line, with the warnings printed on stderr during the command. */
export function printReport(io: CliIo, context: CommandContext, report: WriteReport): void {
  printJson(io, { ...report, warnings: context.warnings ?? [] });
}

/** A JSON report on stdout, its strings printable (escaped as JSON escapes them: the same value). */
export function printJson(io: CliIo, value: unknown, indent?: number): void {
  io.stdout.write(`${printableLines(JSON.stringify(value, null, indent))}\n`);
}

export interface OutputFlags {
  format?: 'text' | 'json';
  dryRun?: boolean;
}

/** After an update: the JSON report, or for --dry-run the would-be file. */
export function reportUpdate(
  io: CliIo,
  context: CommandContext,
  flags: OutputFlags,
  before: ReadonlySet<string> | undefined,
  result: { path: string; families: readonly MetricFamily[]; content?: string; written: boolean; warnings?: readonly Problem[] },
): void {
  reportNotices(result.warnings ?? [], io, result.path);
  if (flags.format !== 'json') {
    if (flags.dryRun) io.stdout.write(result.content ?? '');
    return;
  }
  printReport(io, context, {
    file: result.path,
    changed: !sameSeries(before ?? new Set(), seriesOf(result.families)),
    written: result.written,
    dryRun: flags.dryRun === true,
    series: countSeries(result.families),
    ...(flags.dryRun ? { content: result.content ?? '' } : {}),
  });
}

/**
 * What check warns about the families a writer wrote (all, or those named in `touches`), said when
 * writing: a `job` or `instance` label that Prometheus renames.
 */
export function warnTargetLabels(io: CliIo, path: string, families: readonly MetricFamily[], touches?: readonly string[]): void {
  const touched = touches && new Set(touches);
  const messages: string[] = [];
  for (const family of families) {
    if (touched && !touched.has(family.name) && !family.samples.some((sample) => touched.has(sample.name))) continue;
    for (const { message } of targetLabelsOf(family)) messages.push(message);
  }
  warnSome(io, path, messages.slice(0, WARNED_AT_MOST), messages.length);
}

/** Warnings of one kind printed one per line: a family a line for a large file would flood cron's mail. */
export const WARNED_AT_MOST = 5;

/** The `first` warnings of `count` alike, one a line, the last saying how many more there were. */
export function warnSome(io: CliIo, path: string, first: readonly string[], count: number): void {
  first.forEach((message, i) => {
    const more = i === first.length - 1 && count > first.length ? ` (and ${count - first.length} more like it)` : '';
    io.stderr.write(`promfile: warning: ${path}: ${message}${more}\n`);
  });
}

/** The series before an update, when --format json will compare them. */
export async function seriesBefore(flags: OutputFlags, path: string): Promise<Set<string> | undefined> {
  return flags.format === 'json' ? seriesOfFile(path) : undefined;
}

/** `3 errors`, `1 warning`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

type Paint = Record<Severity | 'bold', (text: string) => string>;

/** ANSI colour on a terminal, unless NO_COLOR is set; plain text otherwise. */
function painter(io: CliIo): Paint {
  const tty = io.stdout.isTTY === true;
  const on = tty && !io.env['NO_COLOR'];
  const code = (open: number, close: number) => (text: string) => (on ? `\u001b[${open}m${text}\u001b[${close}m` : text);
  return { error: code(31, 39), warning: code(33, 39), notice: code(36, 39), bold: code(1, 22) };
}

/** What check says besides its result: the directory it chose and the rules it judged by. */
export interface CheckContext {
  readonly directory?: { readonly dir: string; readonly reason: string };
  readonly profile: Profile;
  readonly rules: string;
}

/** check's result: one JSON object, or a line per finding (notices aside) and a verdict. */
export function renderCheck(io: CliIo, format: 'text' | 'json', result: CheckResult, about: CheckContext): void {
  const { findings, files, series, summary: counts } = result;
  if (format === 'json') {
    const report = {
      ...(about.directory ? { directory: about.directory.dir, directoryReason: about.directory.reason } : {}),
      nodeExporter: { versions: about.profile.versions, exporterMetrics: about.profile.exporterMetrics, reason: about.rules },
      files: files.map((file) => file.path),
      series,
      ok: result.ok,
      summary: counts,
      findings,
    };
    printJson(io, report, 2);
    return;
  }
  const paint = painter(io);
  for (const f of findings) {
    if (f.severity === 'notice') continue;
    io.stdout.write(
      `${paint.bold(`${printable(f.file)}${f.line === undefined ? '' : `:${f.line}`}:`)} ${paint[f.severity](f.severity)}: ${printable(f.message)}\n`,
    );
  }
  const what = `${files.length} file${files.length === 1 ? '' : 's'}, ${series} series`;
  const verdict =
    counts.error + counts.warning === 0
      ? 'no problems: node_exporter will expose every series'
      : `${plural(counts.error, 'error')}, ${plural(counts.warning, 'warning')}${counts.error > 0 ? ': node_exporter will lose data' : ''}`;
  io.stdout.write(`${what}: ${verdict}\n`);
}

/** ls's rows: one JSON object, or an aligned table (numbers right-aligned, the status column unpadded). */
export function renderListing(io: CliIo, format: 'text' | 'json', dir: string, rows: readonly FileRow[]): void {
  if (format === 'json') {
    printJson(io, { directory: dir, files: rows }, 2);
    return;
  }
  const table = [['FILE', 'SERIES', 'FAMILIES', 'AGE', 'SIZE', 'OWNER', 'MODE', 'STATUS'], ...rows.map(listingCells)];
  const widths = table[0]?.map((_, column) => Math.max(...table.map((cells) => cells[column]?.length ?? 0))) ?? [];
  const numeric = new Set([1, 2, 4]);
  for (const cells of table) {
    const line = cells
      .map((cell, column) =>
        column === cells.length - 1 ? cell : numeric.has(column) ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0),
      )
      .join('  ');
    io.stdout.write(`${line}\n`);
  }
}

function listingCells(row: FileRow): string[] {
  const cells = [
    row.name,
    String(row.series ?? '-'),
    String(row.families ?? '-'),
    row.ageMs === undefined ? '-' : formatAge(row.ageMs),
    String(row.size ?? '-'),
    row.uid === undefined ? '-' : `${row.uid}:${row.gid}`,
    row.mode ?? '-',
    row.status + (row.problem ? ` (${row.problem})` : '') + (row.symlinkTo ? ` -> ${row.symlinkTo}` : ''),
  ];
  return cells.map(printable);
}
