// The strict parser: accepts what node_exporter's textfile collector accepts
// (Prometheus text format 0.0.4, legacy names) and reports everything else
// as a Problem with its line. One syntax error ends the parse, as it ends
// node_exporter's reading of the whole file.
import { constants } from 'node:buffer';
import { ExpositionError } from '../errors.js';
import { describeBadFloat, parseGoFloat } from './number.js';
import { describeChar, isBlank, LineCursor, ScanError, unescapeHelp } from './scan.js';
import { METRIC_TYPES, type MetricFamily, type MetricType, type Problem, type Sample } from './types.js';
import { validateFamilies, validateFamily } from './validate.js';

export interface ReadOptions {
  /** Drop sample timestamps with a notice instead of reporting an error. */
  readonly stripTimestamps?: boolean;
  /** Treat a missing final newline as a notice (the writer adds it). Default false. */
  readonly allowMissingFinalNewline?: boolean;
}

export interface Exposition {
  /** Families sorted by name; empty when a syntax error stopped the parse. */
  readonly families: MetricFamily[];
  readonly problems: Problem[];
}

interface FamilyBuilder {
  name: string;
  help: string | undefined;
  type: MetricType | undefined;
  samples: Sample[];
  lines: number[];
  declaredAt: number;
  nonContiguous: boolean;
}

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});
const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** Read exposition text and report every problem found; never throws on content. */
export function readExposition(input: string | Uint8Array, options: ReadOptions = {}): Exposition {
  const decoded = decode(input);
  if (typeof decoded !== 'string') return { families: [], problems: [decoded] };
  return new Parser(decoded, options).run();
}

/** Parse exposition text strictly: throws ExpositionError on the first error or warning. */
export function parseExposition(
  input: string | Uint8Array,
  options: ReadOptions & { source?: string; onNotice?: (problem: Problem) => void } = {},
): MetricFamily[] {
  const { families, problems } = readExposition(input, options);
  // Errors (data node_exporter would lose) come before warnings, each in line order.
  const rank = (p: Problem): number => (p.severity === 'error' ? 0 : 1);
  const blocking = problems
    .filter((p) => p.severity !== 'notice')
    .sort((a, b) => rank(a) - rank(b) || (a.line ?? Infinity) - (b.line ?? Infinity));
  const first = blocking[0];
  if (first) throw new ExpositionError(first, options.source);
  for (const notice of problems) options.onNotice?.(notice);
  return families;
}

/** The longest text V8 can hold as one string: the bound of what promfile parses. */
export const MAX_TEXT_CHARS = constants.MAX_STRING_LENGTH;

/** Text over V8's string limit: refused, not mistaken for invalid UTF-8 or a crash. */
export function tooLargeProblem(limit = MAX_TEXT_CHARS): Problem {
  return {
    severity: 'error',
    rule: 'too-large',
    message: `larger than ${Math.floor(limit / 2 ** 20)} MiB of text (${limit} characters), the most promfile can hold; split it into several files`,
    wholeFile: true,
  };
}

function decode(input: string | Uint8Array): string | Problem {
  if (typeof input === 'string') return input;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(input);
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_STRING_TOO_LONG' || input.length > MAX_TEXT_CHARS) return tooLargeProblem();
    return { severity: 'error', rule: 'invalid-utf8', message: 'invalid UTF-8', line: firstInvalidUtf8Line(input), wholeFile: true };
  }
}

/** The 1-based line of the first invalid UTF-8 sequence in `bytes`. */
export function firstInvalidUtf8Line(bytes: Uint8Array): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let line = 1;
  let start = 0;
  for (;;) {
    const end = bytes.indexOf(10, start);
    const stop = end === -1 ? bytes.length : end;
    try {
      decoder.decode(bytes.subarray(start, stop));
    } catch {
      return line;
    }
    if (end === -1) return line;
    start = end + 1;
    line++;
  }
}

class Parser {
  private readonly byName = new Map<string, FamilyBuilder>();
  private readonly problems: Problem[] = [];
  /** Metric and label names, interned (see LineCursor). */
  private readonly names = new Map<string, string>();
  private lastFamily: FamilyBuilder | undefined;

  constructor(
    private readonly text: string,
    private readonly options: ReadOptions,
  ) {}

  run(): Exposition {
    const { text } = this;
    if (text.charCodeAt(0) === 0xfeff) {
      return this.fatal(1, 'bom', 'the file starts with a byte-order mark (BOM); node_exporter reads it as part of the first metric name');
    }
    let pos = 0;
    let lineNo = 0;
    while (pos < text.length) {
      lineNo++;
      let end = text.indexOf('\n', pos);
      const last = end === -1;
      if (last) end = text.length;
      const line = text.slice(pos, end);
      pos = end + 1;
      try {
        this.line(line, lineNo, last);
      } catch (error) {
        if (!(error instanceof ScanError)) throw error;
        return this.fatal(lineNo, error.rule, error.message);
      }
      if (last && !/^[ \t]*$/.test(line)) {
        this.problems.push({
          severity: this.options.allowMissingFinalNewline ? 'notice' : 'error',
          rule: 'missing-final-newline',
          message: 'the last line has no newline at its end; node_exporter rejects the whole file',
          line: lineNo,
          wholeFile: true,
        });
      }
    }
    return this.finish();
  }

  private fatal(line: number, rule: string, message: string): Exposition {
    const problems = [
      ...this.problems.filter((p) => p.severity !== 'notice'),
      { severity: 'error' as const, rule, message, line, wholeFile: true },
    ];
    return { families: [], problems };
  }

  private line(text: string, lineNo: number, last: boolean): void {
    const cursor = new LineCursor(text, this.names);
    cursor.skipBlanks();
    if (cursor.done) return;
    const first = text[cursor.pos];
    if (first === '#') this.comment(cursor, lineNo);
    else if (first === '{')
      throw new ScanError(`a sample must start with a metric name, not '{' (node_exporter 1.9.1 crashes on such lines)`);
    else if (first === '"') throw new ScanError(`quoted (UTF-8) metric names are not supported by node_exporter's legacy-name parser`);
    else this.sample(cursor, lineNo, last);
  }

  private comment(cursor: LineCursor, lineNo: number): void {
    cursor.pos++; // '#'
    cursor.skipBlanks();
    if (cursor.done) return;
    const keyword = cursor.readToken();
    if (cursor.done || (keyword !== 'HELP' && keyword !== 'TYPE')) return;
    cursor.skipBlanks();
    const name = cursor.readMetricName();
    if (cursor.done) return;
    if (!isBlank(cursor.peek()))
      throw new ScanError(`invalid metric name in ${keyword} line (at ${describeChar(cursor.text, cursor.pos)})`);
    const family = this.family(name, lineNo);
    cursor.skipBlanks();
    if (cursor.done) return;
    const rest = cursor.rest();
    if (keyword === 'HELP') {
      if (family.help !== undefined) throw new ScanError(`second HELP line for metric name "${family.name}"`);
      family.help = unescapeHelp(rest);
      if (rest.endsWith('\r'))
        this.problems.push({
          severity: 'warning',
          rule: 'crlf',
          message: 'carriage return at the end of the HELP text (CRLF line ending)',
          line: lineNo,
        });
      return;
    }
    if (family.type !== undefined) throw new ScanError(`second TYPE line for metric name "${family.name}", or TYPE reported after samples`);
    const type = rest.toLowerCase();
    if ((METRIC_TYPES as readonly string[]).includes(type)) family.type = type as MetricType;
    else if (rest.endsWith('\r'))
      throw new ScanError('carriage return after the type (CRLF line endings); node_exporter needs LF line endings', 'crlf');
    else if (/[ \t]$/.test(rest)) throw new ScanError(`trailing whitespace after TYPE "${rest.trimEnd()}"`);
    else throw new ScanError(`unknown metric type "${rest}" (node_exporter reads counter, gauge, histogram, summary and untyped)`);
  }

  private sample(cursor: LineCursor, lineNo: number, last: boolean): void {
    const name = cursor.readMetricName();
    if (name === '')
      throw new ScanError(`invalid metric name (a name starts with a letter, '_' or ':', found ${describeChar(cursor.text, cursor.pos)})`);
    // node_exporter reads `m-1` as m with value -1: no separator is needed before the value.
    const glued = !cursor.done && !isBlank(cursor.peek()) && cursor.peek() !== 123; /* { */
    const family = this.family(name, lineNo);
    family.type ??= 'untyped';
    cursor.skipBlanks();
    let labels = NO_LABELS;
    if (cursor.peek() === 123 /* { */) {
      labels = cursor.readLabels(name, last);
      cursor.skipBlanks();
      const bound = family.type === 'summary' ? 'quantile' : family.type === 'histogram' ? 'le' : undefined;
      const boundText = bound === undefined ? undefined : labels[bound];
      if (boundText !== undefined && parseGoFloat(boundText) === undefined) {
        throw new ScanError(`expected float as value for '${bound}' label, got "${boundText}"`);
      }
    }
    const valueText = cursor.readToken();
    const value = parseGoFloat(valueText);
    if (value === undefined) {
      if (valueText.endsWith('\r'))
        throw new ScanError('carriage return after the value (CRLF line endings); node_exporter needs LF line endings', 'crlf');
      if (glued) throw new ScanError(`invalid character ${JSON.stringify(valueText[0])} in metric name "${name}${valueText}"`);
      throw new ScanError(`expected float as value: ${describeBadFloat(valueText)}`, 'value');
    }
    if (glued)
      this.problems.push({
        severity: 'warning',
        rule: 'value-separator',
        message: `no space between metric name "${name}" and value "${valueText}"`,
        line: lineNo,
      });
    if (!cursor.done) this.timestamp(cursor, lineNo);
    if (family !== this.lastFamily && family.samples.length > 0 && !family.nonContiguous) {
      family.nonContiguous = true;
      this.problems.push({
        severity: 'notice',
        rule: 'non-contiguous',
        message: `samples of "${family.name}" are not grouped together; promfile regroups them`,
        line: lineNo,
      });
    }
    this.lastFamily = family;
    family.samples.push({ name: cursor.intern(name), labels, value });
    family.lines.push(lineNo);
  }

  private timestamp(cursor: LineCursor, lineNo: number): void {
    cursor.skipBlanks();
    const token = cursor.readToken();
    if (token === '') throw new ScanError('trailing whitespace after the value (node_exporter reads it as an empty timestamp)');
    if (token.startsWith('#')) throw new ScanError('OpenMetrics exemplars are not supported by node_exporter');
    if (!/^[+-]?\d+$/.test(token) || BigInt(token) > INT64_MAX || BigInt(token) < INT64_MIN) {
      throw new ScanError(`expected integer as timestamp, got "${token}"`);
    }
    if (!cursor.done) throw new ScanError(`spurious text after timestamp: "${cursor.rest()}"`);
    this.problems.push(
      this.options.stripTimestamps
        ? { severity: 'notice', rule: 'timestamp', message: 'timestamp dropped', line: lineNo }
        : {
            severity: 'error',
            rule: 'timestamp',
            message: 'sample has a timestamp; node_exporter skips the entire file',
            line: lineNo,
            wholeFile: true,
          },
    );
  }

  /** Which family a name belongs to, as node_exporter's parser decides it. */
  private family(name: string, lineNo: number): FamilyBuilder {
    const exact = this.byName.get(name);
    if (exact) return exact;
    const summary = this.byName.get(stripSuffix(name, ['_count', '_sum']));
    if (summary?.type === 'summary') return summary;
    const histogram = this.byName.get(stripSuffix(name, ['_count', '_sum', '_bucket']));
    if (histogram?.type === 'histogram') return histogram;
    const created: FamilyBuilder = {
      name,
      help: undefined,
      type: undefined,
      samples: [],
      lines: [],
      declaredAt: lineNo,
      nonContiguous: false,
    };
    this.byName.set(name, created);
    return created;
  }

  private finish(): Exposition {
    const families: MetricFamily[] = [];
    const builders = [...this.byName.values()].sort((a, b) => compareNames(a.name, b.name));
    for (const builder of builders) {
      const family: MetricFamily = { name: builder.name, help: builder.help, type: builder.type ?? 'untyped', samples: builder.samples };
      for (const { sample, ...problem } of validateFamily(family)) {
        const line = sample === undefined ? builder.declaredAt : builder.lines[sample];
        this.problems.push(line === undefined ? problem : { ...problem, line });
      }
      if (builder.samples.length > 0) families.push(family);
    }
    this.problems.push(...validateFamilies(families));
    return { families, problems: this.problems };
  }
}

function stripSuffix(name: string, suffixes: readonly string[]): string {
  for (const suffix of suffixes) {
    if (name.length > suffix.length && name.endsWith(suffix)) return name.slice(0, -suffix.length);
  }
  return name;
}

/** Byte order of names, as Go sorts strings. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
