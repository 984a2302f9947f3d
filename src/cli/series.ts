// Series given on the command line: `name{k="v"}` in exposition syntax,
// followed by `=VALUE` or by the value as the next argument.
import { InputError } from '../errors.js';
import { describeBadFloat, parseGoFloat } from '../format/number.js';
import { LineCursor, ScanError } from '../format/scan.js';
import type { Labels } from '../format/types.js';
import { labelNameProblem, seriesKey } from '../format/validate.js';
import type { SeriesValue } from '../format/model.js';

export interface SeriesSelector {
  readonly name: string;
  readonly labels: Labels;
}

/** Parse `name` or `name{k="v",...}`; returns the selector and the rest of the text. */
function scanSeries(text: string, what: string): { selector: SeriesSelector; rest: string } {
  const cursor = new LineCursor(text);
  const name = cursor.readMetricName();
  if (name === '')
    throw new InputError('ERR_INVALID_ARGUMENT', `${what}: "${text}" does not start with a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)`);
  let labels: Labels = {};
  if (cursor.peek() === 123 /* { */) {
    try {
      labels = cursor.readLabels(name, true);
    } catch (error) {
      if (error instanceof ScanError) throw new InputError('ERR_INVALID_ARGUMENT', `${what}: ${error.message}${quotingHint(text)}`);
      throw error;
    }
  }
  for (const label of Object.keys(labels)) {
    const problem = labelNameProblem(label);
    if (problem) throw new InputError('ERR_INVALID_ARGUMENT', `${what}: ${problem}`);
  }
  return { selector: { name, labels }, rest: cursor.text(cursor.pos, cursor.end) };
}

/** `name{a=b,c="d"}` with its bare label values quoted; undefined when there is none to quote. */
function withQuotedValues(text: string): string | undefined {
  const open = text.indexOf('{');
  const close = text.lastIndexOf('}');
  if (open < 0 || close < open) return undefined;
  const labels = text
    .slice(open + 1, close)
    .replace(/(^|,)\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*([^",{}=]*?)\s*(?=,|$)/g, (_all, comma: string, name: string, value: string) =>
      value === '' ? `${comma}${name}=` : `${comma}${name}="${value}"`,
    );
  const fixed = `${text.slice(0, open + 1)}${labels}${text.slice(close)}`;
  return fixed === text ? undefined : fixed;
}

/** The corrected series for a label value written without its quotes (`m{origin=security}`), as a hint. */
function quotingHint(text: string): string {
  const fixed = withQuotedValues(text);
  if (fixed === undefined) return '';
  try {
    scanSeries(fixed, 'series');
  } catch {
    return '';
  }
  return `; write '${fixed}' (label values in double quotes, the whole series in single quotes for the shell)`;
}

/** Why the text after a metric name cannot follow it: a character no name may hold, named. */
function badNameCharacter(text: string, rest: string, what: string): InputError {
  const name = text.slice(0, text.length - rest.length);
  if (name.endsWith('}'))
    return new InputError('ERR_INVALID_ARGUMENT', `${what}: unexpected "${rest}" after "${name}" (expected "=VALUE" or a separate value)`);
  const char = String.fromCodePoint(rest.codePointAt(0) as number);
  return new InputError(
    'ERR_INVALID_ARGUMENT',
    `${what}: ${JSON.stringify(char)} is not allowed in a metric name (after "${name}"; names are [a-zA-Z_:][a-zA-Z0-9_:]*, e.g. ${(name + rest.split(/[={]/)[0]).replace(/[^a-zA-Z0-9_:]/gu, '_')})`,
  );
}

/** How a series argument is named in messages: its text, shortened. */
function seriesWhat(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

/** A series selector with nothing after it, e.g. for `unset`. */
export function parseSeriesSelector(text: string, what = 'series'): SeriesSelector {
  const { selector, rest } = scanSeries(text, what);
  if (rest !== '') throw badNameCharacter(text, rest, what);
  return selector;
}

/**
 * A value as given on the command line: a Go float, NaN, +Inf, -Inf, or
 * `now` (Unix time in seconds, millisecond precision).
 */
export function parseValueArgument(text: string, what: string, nowMs: number): number {
  if (text === 'now') return nowMs / 1000;
  const value = parseGoFloat(text);
  if (value === undefined) throw new InputError('ERR_INVALID_ARGUMENT', `${what}: ${describeBadFloat(text)}`);
  return value;
}

/** Parse `key=value` for `-l`; the value is taken literally. */
export function parseLabelOption(text: string, option = '-l'): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new InputError('ERR_INVALID_ARGUMENT', `${option} "${text}": expected NAME=VALUE`);
  const name = text.slice(0, eq);
  const problem = labelNameProblem(name);
  if (problem) throw new InputError('ERR_INVALID_ARGUMENT', `${option} "${text}": ${problem}`);
  return [name, text.slice(eq + 1)];
}

/**
 * All `-l` options as labels. What could mean two things is refused: a label
 * given twice, `a=b,c=d` (one label, or two?), and a quoted value (the quotes
 * would become part of it).
 */
export function parseLabelOptions(values: readonly string[] = []): Labels {
  const labels: Record<string, string> = {};
  for (const text of values) {
    const [name, value] = parseLabelOption(text);
    if (Object.hasOwn(labels, name))
      throw new InputError('ERR_INVALID_ARGUMENT', `-l ${name}: the label is given twice ("${labels[name]}" and "${value}")`);
    if (/,\s*[a-zA-Z_][a-zA-Z0-9_]*=/.test(value))
      throw new InputError('ERR_INVALID_ARGUMENT', `-l "${text}": one label per -l (write -l ${text.replace(/,\s*/, ' -l ')})`);
    if (value.length >= 2 && /^(["']).*\1$/s.test(value))
      throw new InputError(
        'ERR_INVALID_ARGUMENT',
        `-l "${text}": the quotes would be part of the value; write -l ${name}=${value.slice(1, -1)} (quote for the shell around the whole option)`,
      );
    labels[name] = value;
  }
  return labels;
}

/** Add the `-l` labels to a series; a label given both ways is an error. */
export function withLabels(selector: SeriesSelector, extra: Labels, what: string): SeriesSelector {
  for (const label of Object.keys(extra)) {
    if (Object.hasOwn(selector.labels, label))
      throw new InputError('ERR_INVALID_ARGUMENT', `${what}: label "${label}" is given both in the series and with -l`);
  }
  return { name: selector.name, labels: { ...selector.labels, ...extra } };
}

/**
 * Turn `SERIES=VALUE` and `SERIES VALUE` arguments into series values.
 * Messages name each argument by its text. The same series twice is refused.
 */
export function parseSeriesValues(args: readonly string[], extra: Labels, nowMs: number): SeriesValue[] {
  const values: SeriesValue[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const what = seriesWhat(args[i] as string);
    const { selector, rest } = scanSeries(args[i] as string, what);
    let valueText: string;
    if (rest.startsWith('=')) {
      valueText = rest.slice(1);
    } else if (rest === '') {
      const next = args[i + 1];
      if (next === undefined)
        throw new InputError('ERR_INVALID_ARGUMENT', `${what}: "${args[i]}" has no value (give "${args[i]} VALUE" or "${args[i]}=VALUE")`);
      valueText = next;
      i++;
    } else {
      throw badNameCharacter(args[i] as string, rest, what);
    }
    const series = withLabels(selector, extra, what);
    const key = seriesKey(series.name, series.labels);
    if (seen.has(key)) throw new InputError('ERR_INVALID_ARGUMENT', `${what}: the series is given twice in one call`);
    seen.add(key);
    values.push({ ...series, value: parseValueArgument(valueText, `${what} (value of ${selector.name})`, nowMs), source: what });
  }
  return values;
}
