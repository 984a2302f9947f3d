// `--format json` of the writing commands: one object on stdout saying what
// happened to the file, for configuration management (`changed_when`).
import { formatGoFloat } from '../format/number.js';
import { readExposition } from '../format/parse.js';
import type { MetricFamily } from '../format/types.js';
import { seriesKey } from '../format/validate.js';
import { readTextfile } from '../textfile/files.js';
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
  io.stdout.write(`${JSON.stringify({ ...report, warnings: context.warnings ?? [] })}\n`);
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
  result: { path: string; families: readonly MetricFamily[]; content?: string; written: boolean },
): void {
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

/** The series before an update, when --format json will compare them. */
export async function seriesBefore(flags: OutputFlags, path: string): Promise<Set<string> | undefined> {
  return flags.format === 'json' ? seriesOfFile(path) : undefined;
}

/** Number of samples. */
export function countSeries(families: readonly MetricFamily[]): number {
  return families.reduce((sum, family) => sum + family.samples.length, 0);
}
