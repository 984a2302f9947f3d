// The strict parser: accepts what node_exporter's textfile collector accepts
// (Prometheus text format 0.0.4; quoted names where every version of the
// profile reads them) and reports everything else as a Problem with its line.
// One syntax error ends the parse, as it ends node_exporter's reading of the
// whole file.
import { compareNames } from './names.js';
import { constants, isUtf8 } from 'node:buffer';
import { ExpositionError } from '../errors.js';
import { describeBadFloat, parseGoFloat } from './number.js';
import { ALL_VERSIONS, versionGap, type Profile } from './profile.js';
import { ChunkLines } from './lines.js';
import { Byte, invalidUtf8Lines, isBlank, isMetricName, readDirective, typeWord } from './lex.js';
import { crashError, describeByte, LineCursor, onQuotedNonLegacyName, ScanError, unescapeHelp } from './scan.js';
import type { Labels, MetricFamily, MetricType, Problem, Rule, Sample } from './types.js';
import { validateFamilies, validateFamily } from './validate.js';
import { boundLabel, owningFamily } from './shape.js';

export interface ReadOptions {
  /** Drop sample timestamps with a notice instead of reporting an error. */
  readonly stripTimestamps?: boolean;
  /** Treat a missing final newline as a notice (the writer adds it). Default false. */
  readonly allowMissingFinalNewline?: boolean;
  /** The node_exporter versions whose parser rules apply; default all known versions. */
  readonly profile?: Profile;
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
  /** TYPE gauge_histogram: any sample of it crashes some version (gaugeHistogramSample). */
  gaugeHistogram: boolean;
}

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});
const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** Read exposition text and report every problem found; never throws on content. */
export function readExposition(input: string | Uint8Array, options: ReadOptions = {}): Exposition {
  const parser = new Parser(options);
  if (typeof input === 'string') parser.readChunks([Buffer.from(input, 'utf8')]);
  else {
    const tooLarge = sizeProblem(input);
    if (tooLarge !== undefined) return { families: [], problems: [tooLarge] };
    parser.readChunks([input]);
  }
  return parser.finish();
}

export interface SegmentResult extends Exposition {
  /** A syntax error ended the parse (node_exporter would read nothing more). */
  readonly fatal: boolean;
  /** How many of `problems` (the first ones) were found while reading lines, before validation. */
  readonly parseProblems: number;
}

/**
 * Parse `chunks` as the lines of a larger input starting at line `firstLine`:
 * the fast path hands over the families it does not handle itself, and
 * problems then carry the lines of the whole input.
 */
export function readSegment(chunks: readonly Uint8Array[], firstLine: number, options: ReadOptions = {}): SegmentResult {
  const parser = new Parser(options, firstLine);
  parser.readChunks(chunks);
  return parser.finishSegment();
}

/**
 * Parse exposition text strictly: throws ExpositionError on the first error
 * (data node_exporter would lose). Warnings (exposed as given, but worth
 * saying) and notices (promfile normalizes them) go to `onNotice`.
 */
export function parseExposition(
  input: string | Uint8Array,
  options: ReadOptions & { source?: string; onNotice?: (problem: Problem) => void } = {},
): MetricFamily[] {
  const { families, problems } = readExposition(input, options);
  // Errors (data node_exporter would lose) come before warnings, each in line order.
  const blocking = problems.filter((p) => p.severity === 'error').sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
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

/**
 * Bytes whose text V8 cannot hold as one string: a problem, not a crash nor
 * invalid UTF-8. (Up to that size the parser decodes them whole; invalid
 * UTF-8 is read as U+FFFD and its lines are noted: node_exporter only
 * objects to it in a sample.)
 */
function sizeProblem(input: Uint8Array): Problem | undefined {
  if (input.length <= MAX_TEXT_CHARS) return undefined;
  const fits = input.length <= MAX_TEXT_CHARS * 3 && isUtf8(input) && utf16Length(input) <= MAX_TEXT_CHARS;
  return fits ? undefined : tooLargeProblem();
}

/** The length of the string valid UTF-8 decodes to: a unit per sequence, two for the four-byte ones. */
function utf16Length(bytes: Uint8Array): number {
  let length = 0;
  for (const byte of bytes) {
    if ((byte & 0xc0) !== 0x80) length++;
    if (byte >= 0xf0) length++;
  }
  return length;
}

const NO_LINES: ReadonlySet<number> = new Set();
const BOM = [0xef, 0xbb, 0xbf];

class Parser {
  private readonly byName = new Map<string, FamilyBuilder>();
  private readonly problems: Problem[] = [];
  /** Metric and label names, interned (see LineCursor). */
  private readonly names = new Map<string, string>();
  /** The family of the last sample. */
  private lastFamily: FamilyBuilder | undefined;
  /** The family of the last line that named one (a sample, HELP or TYPE). */
  private currentFamily: FamilyBuilder | undefined;
  /** Summaries and histograms whose first sample was named inside the braces away from them: the name that did it. */
  private readonly detached = new Map<FamilyBuilder, string>();
  private parseProblems = 0;
  /** What a syntax error left: the parse ended there. */
  private stoppedWith: Exposition | undefined;
  /** Lines before the ones read next. */
  private lineNo: number;
  /** Lines of the run read now that hold invalid UTF-8. */
  private badLines = NO_LINES;
  /** Why the profile refuses quoted names and `\"` in HELP; null when every version reads them. */
  private readonly quotedRefusal: string | null;
  /** Why the profile refuses a non-legacy name even where no sample uses it (1.11's legacy validation); null when it does not. */
  private readonly nonLegacyRefusal: string | null;
  /** The one line reader (scan.ts), moved from line to line. */
  private readonly cursor: LineCursor;

  constructor(
    private readonly options: ReadOptions,
    firstLine = 1,
  ) {
    this.lineNo = firstLine - 1;
    this.quotedRefusal = versionGap(options.profile ?? ALL_VERSIONS, (rules) => rules.quotedNames);
    // 1.5 passes this rule only because it refuses every quoted name (quotedRefusal): it does not read one.
    this.nonLegacyRefusal = versionGap(
      options.profile ?? ALL_VERSIONS,
      (rules) => !rules.rejectsNonLegacyNames,
      (rules) => rules.quotedNames && !rules.rejectsNonLegacyNames,
    );
    this.cursor = new LineCursor(undefined, this.names, this.quotedRefusal);
  }

  /** Bytes in chunks, cut into lines by ChunkLines as the streaming path cuts them. */
  readChunks(chunks: readonly Uint8Array[]): void {
    const lines = new ChunkLines((buf, start, end) => {
      const bytes = buf.subarray(start, end);
      this.read(buf, start, end, isUtf8(bytes) ? NO_LINES : invalidUtf8Lines(bytes, this.lineNo + 1, new Set()));
      return end;
    });
    for (const chunk of chunks) lines.push(chunk);
    lines.end();
  }

  finish(): Exposition {
    return this.stoppedWith ?? this.validate();
  }

  finishSegment(): SegmentResult {
    const result = this.finish();
    const fatal = this.stoppedWith !== undefined;
    return { ...result, fatal, parseProblems: fatal ? result.problems.length : this.parseProblems };
  }

  /** Whole lines buf[start, end) (the last may lack its newline: the input ended); `badLines` hold invalid UTF-8. */
  private read(buf: Buffer, start: number, end: number, badLines: ReadonlySet<number>): void {
    if (this.stoppedWith !== undefined) return;
    this.badLines = badLines;
    if (this.lineNo === 0 && BOM.every((byte, i) => buf[start + i] === byte)) {
      this.stoppedWith = this.fatal(
        1,
        'bom',
        'the file starts with a byte-order mark (BOM); node_exporter reads it as part of the first metric name',
      );
      return;
    }
    let pos = start;
    while (pos < end) {
      const lineNo = ++this.lineNo;
      let lineEnd = buf.indexOf(Byte.Newline, pos);
      const last = lineEnd === -1 || lineEnd >= end;
      if (last) lineEnd = end;
      try {
        this.line(this.cursor.reset(buf, pos, lineEnd), lineNo, last);
      } catch (error) {
        if (!(error instanceof ScanError)) throw error;
        this.stoppedWith = this.fatal(lineNo, error.rule, error.message);
        return;
      }
      if (last && !isBlankLine(buf, pos, lineEnd)) this.missingNewline(lineNo);
      pos = lineEnd + 1;
    }
  }

  private missingNewline(lineNo: number): void {
    this.problems.push({
      severity: this.options.allowMissingFinalNewline ? 'notice' : 'error',
      rule: 'missing-final-newline',
      message: 'the last line has no newline at its end; node_exporter rejects the whole file',
      line: lineNo,
      wholeFile: true,
    });
  }

  private fatal(line: number, rule: Rule, message: string): Exposition {
    const problems = [
      ...this.problems.filter((p) => p.severity !== 'notice'),
      { severity: 'error' as const, rule, message, line, wholeFile: true },
    ];
    return { families: [], problems };
  }

  private line(cursor: LineCursor, lineNo: number, last: boolean): void {
    cursor.skipBlanks();
    if (cursor.done) return;
    const first = cursor.peek();
    if (this.badLines.has(lineNo) && first !== Byte.Hash)
      throw new ScanError('invalid UTF-8 in a sample line (node_exporter rejects the whole file for it)', 'invalid-utf8');
    if (first === Byte.Hash) this.comment(cursor, lineNo);
    else if (first === Byte.OpenBrace || first === Byte.Quote) this.quotedSample(cursor, lineNo, last);
    else this.sample(cursor, lineNo, last);
  }

  /** `{"name",labels} v`, `{labels,"name"} v`, `"name" v` or `"name"{labels} v`: quoted metric names (node_exporter 1.9). */
  private quotedSample(cursor: LineCursor, lineNo: number, last: boolean): void {
    if (cursor.peek() === Byte.Quote) {
      const name = this.quotedMetricName(cursor, last);
      cursor.skipBlanks();
      const labels = cursor.peek() === Byte.OpenBrace ? cursor.readLabels(name, last) : undefined;
      this.sampleRest(cursor, lineNo, name, labels, false);
      return;
    }
    const brace = cursor.pos;
    cursor.pos++;
    cursor.skipBlanks();
    if (cursor.peek() === Byte.CloseBrace) throw crashError('a sample without a metric name', (rules) => rules.crashesOnNamelessSample);
    cursor.pos = brace;
    const labels = cursor.readLabels('', last, true);
    const name = cursor.insideName;
    if (name === undefined)
      throw new ScanError(
        `a sample without a metric name: node_exporter 1.9 and 1.11 apply its labels and value to the sample before it, 1.5 rejects the file`,
      );
    if (!isMetricName(name)) throw crashError(`quoted metric name "${name}" (not a legacy name)`, onQuotedNonLegacyName);
    const detached = this.memberAwayFromFamily(name, cursor.nameFirst, labels, lineNo);
    this.sampleRest(cursor, lineNo, name, labels, false);
    if (detached) this.detached.set(detached, name);
  }

  /**
   * A member of summary or histogram `a` named inside the braces while `a` has
   * no sample yet and another family came in between (not with TYPE `a` just
   * before, nor once `a` has samples: seen on 1.9 and 1.11). Both read it
   * outside `a`'s state: `{"a_sum",x="1"} 0` panics them ("assignment to
   * entry in nil map"); labels before the name are read as another family's,
   * so `{le="1","a_bucket"}` keeps `le` as an ordinary label; otherwise the
   * line is exposed right, and the family is returned: any later sample of it
   * makes them collect `a` twice (an error at every scrape) or mix its labels.
   * Those two are errors, not a stop: the file is still read for what it says.
   */
  private memberAwayFromFamily(name: string, nameFirst: boolean, labels: Labels, lineNo: number): FamilyBuilder | undefined {
    const family = owningFamily(this.byName, name);
    if (family === undefined || family === this.currentFamily || family.samples.length > 0) return undefined;
    if (family.type !== 'summary' && family.type !== 'histogram') return undefined;
    const where = `"${name}" named inside the braces, away from its ${family.type} "${family.name}"`;
    const bound = boundLabel(family.type);
    const others = Object.keys(labels).filter((label) => label !== bound).length;
    if (nameFirst && others > 0 && (name === `${family.name}_sum` || name === `${family.name}_count`))
      throw crashError(where, (rules) => rules.quotedNames);
    if (!nameFirst && bound !== undefined && labels[bound] !== undefined)
      this.quotedNameError(lineNo, `${where}, after its labels: node_exporter 1.9 and 1.11 read its "${bound}" as an ordinary label`);
    return family;
  }

  private quotedNameError(line: number, message: string): void {
    this.problems.push({ severity: 'error', rule: 'quoted-name', message, line });
  }

  /** A sample of a family `memberAwayFromFamily` detached: 1.9 and 1.11 collect the family twice or mix up its labels. */
  private refuseDetached(family: FamilyBuilder, name: string, lineNo: number): void {
    const first = this.detached.get(family);
    if (first === undefined) return;
    this.detached.delete(family); // said once
    this.quotedNameError(
      lineNo,
      `"${name}" after "${first}" was named inside the braces away from its ${family.type} "${family.name}": node_exporter 1.9 and 1.11 collect "${family.name}" twice (an error at every scrape) or mix up its labels; name that first sample before the braces`,
    );
  }

  /** A quoted metric name at the cursor: one that is not a legacy name crashes the versions that read it. */
  private quotedMetricName(cursor: LineCursor, last: boolean): string {
    const start = cursor.pos;
    const raw = cursor.readQuotedValue(last);
    if (!isMetricName(raw)) throw crashError(`quoted metric name "${raw}" (not a legacy name)`, onQuotedNonLegacyName);
    cursor.pos = start;
    return cursor.readQuotedName('metric name');
  }

  private comment(cursor: LineCursor, lineNo: number): void {
    const directive = readDirective(cursor.buf, cursor.pos + 1, cursor.end); // after '#'
    if (directive === undefined) return;
    const keyword = directive.help ? 'HELP' : 'TYPE';
    cursor.pos = directive.nameStart;
    const name = directive.nameEnd === -1 ? cursor.readQuotedName('metric name') : cursor.readMetricName();
    // A HELP or TYPE line that ends right after its name says nothing: 1.11 skips it before judging the name.
    if (cursor.done) return;
    if (directive.nameEnd === -1 && !isMetricName(name) && this.nonLegacyRefusal !== null)
      throw new ScanError(
        `quoted metric name "${name}" in a ${keyword} line is not a legacy name: ${this.nonLegacyRefusal}`,
        'quoted-name',
      );
    if (!isBlank(cursor.peek()))
      throw new ScanError(`invalid metric name in ${keyword} line (at ${describeByte(cursor.buf, cursor.pos, cursor.end)})`);
    const family = this.family(name, lineNo);
    cursor.skipBlanks();
    if (cursor.done) return;
    const rest = cursor.rest();
    if (keyword === 'HELP') this.help(family, rest, lineNo);
    else this.type(family, rest);
  }

  private help(family: FamilyBuilder, rest: string, lineNo: number): void {
    if (family.help !== undefined) throw new ScanError(`second HELP line for metric name "${family.name}"`);
    family.help = unescapeHelp(rest, this.quotedRefusal);
    if (this.badLines.has(lineNo))
      this.problems.push({
        severity: 'warning',
        rule: 'invalid-utf8',
        message: `HELP text of "${family.name}" is not valid UTF-8: node_exporter exposes it as is, promfile writes U+FFFD in place of the bad bytes`,
        line: lineNo,
      });
    if (rest.endsWith('\r'))
      this.problems.push({
        severity: 'warning',
        rule: 'crlf',
        message: 'carriage return at the end of the HELP text (CRLF line ending)',
        line: lineNo,
      });
  }

  private type(family: FamilyBuilder, rest: string): void {
    if (family.type !== undefined) throw new ScanError(`second TYPE line for metric name "${family.name}", or TYPE reported after samples`);
    const type = typeWord(rest);
    if (type === 'gauge_histogram') {
      family.type = 'histogram';
      family.gaugeHistogram = true;
    } else if (type !== undefined) family.type = type;
    else if (rest.endsWith('\r'))
      throw new ScanError('carriage return after the type (CRLF line endings); node_exporter needs LF line endings', 'crlf');
    else if (/[ \t]$/.test(rest)) throw new ScanError(`trailing whitespace after TYPE "${rest.trimEnd()}"`);
    else throw new ScanError(`unknown metric type "${rest}" (node_exporter reads counter, gauge, histogram, summary and untyped)`);
  }

  private sample(cursor: LineCursor, lineNo: number, last: boolean): void {
    const name = cursor.readMetricName();
    if (name === '')
      throw new ScanError(
        `invalid metric name (a name starts with a letter, '_' or ':', found ${describeByte(cursor.buf, cursor.pos, cursor.end)})`,
      );
    // node_exporter reads `m-1` as m with value -1: no separator is needed before the value.
    const glued = !cursor.done && !isBlank(cursor.peek()) && cursor.peek() !== Byte.OpenBrace;
    cursor.skipBlanks();
    const labels = cursor.peek() === Byte.OpenBrace ? cursor.readLabels(name, last) : undefined;
    this.sampleRest(cursor, lineNo, name, labels, glued);
  }

  /** A sample after its name and labels: value, timestamp, and its family. */
  private sampleRest(cursor: LineCursor, lineNo: number, name: string, given: Record<string, string> | undefined, glued: boolean): void {
    const family = this.family(name, lineNo);
    family.type ??= 'untyped';
    if (family.gaugeHistogram) throw gaugeHistogramSample(name, family.name);
    this.refuseDetached(family, name, lineNo);
    const labels = given ?? NO_LABELS;
    if (given !== undefined) {
      cursor.skipBlanks();
      const bound = boundLabel(family.type);
      const boundText = bound === undefined ? undefined : labels[bound];
      if (boundText !== undefined && parseGoFloat(boundText) === undefined) {
        throw new ScanError(`expected float as value for '${bound}' label, got "${boundText}"`);
      }
    }
    const value = this.value(cursor, name, glued);
    if (glued)
      this.problems.push({
        severity: 'warning',
        rule: 'value-separator',
        message: `no space between metric name "${name}" and value "${cursor.text(cursor.pos - value.length, cursor.pos)}"`,
        line: lineNo,
      });
    if (!cursor.done) this.timestamp(cursor, lineNo);
    this.notGrouped(family, lineNo);
    this.lastFamily = family;
    family.samples.push({ name, labels, value: value.value });
    family.lines.push(lineNo);
  }

  /** The value token (Go's ParseFloat, number.ts), or the error that refuses it. */
  private value(cursor: LineCursor, name: string, glued: boolean): { value: number; length: number } {
    const start = cursor.pos;
    const end = cursor.skipToken();
    const text = cursor.buf.toString('latin1', start, end);
    const value = parseGoFloat(text);
    if (value !== undefined) return { value, length: end - start };
    const token = cursor.text(start, end);
    if (token.endsWith('\r'))
      throw new ScanError('carriage return after the value (CRLF line endings); node_exporter needs LF line endings', 'crlf');
    if (glued)
      throw new ScanError(
        `invalid character ${JSON.stringify(String.fromCodePoint(token.codePointAt(0) ?? 0))} in metric name "${name}${token}"`,
      );
    throw new ScanError(`expected float as value: ${describeBadFloat(token)}`, 'value');
  }

  /** A family whose samples come back after another family's: regrouped, with a notice. */
  private notGrouped(family: FamilyBuilder, lineNo: number): void {
    if (family === this.lastFamily || family.samples.length === 0 || family.nonContiguous) return;
    family.nonContiguous = true;
    this.problems.push({
      severity: 'notice',
      rule: 'non-contiguous',
      message: `samples of "${family.name}" are not grouped together; promfile regroups them`,
      line: lineNo,
    });
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

  /** Which family a name belongs to, as node_exporter's parser decides it (the current family from now on). */
  private family(name: string, lineNo: number): FamilyBuilder {
    const found = owningFamily(this.byName, name);
    if (found) return (this.currentFamily = found);
    const created: FamilyBuilder = {
      name,
      help: undefined,
      type: undefined,
      samples: [],
      lines: [],
      declaredAt: lineNo,
      nonContiguous: false,
      gaugeHistogram: false,
    };
    this.byName.set(name, created);
    return (this.currentFamily = created);
  }

  private validate(): Exposition {
    this.parseProblems = this.problems.length;
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

/** Whether buf[start, end) holds only blanks. */
function isBlankLine(buf: Buffer, start: number, end: number): boolean {
  for (let p = start; p < end; p++) if (!isBlank(buf[p] as number)) return false;
  return true;
}

/**
 * A sample of a gauge histogram: its own name panics every version; its
 * _bucket, _sum and _count, which 1.5 and 1.9 expose as untyped metrics,
 * panic 1.11 ("unknown metric type"), so no profile accepts either.
 */
function gaugeHistogramSample(name: string, family: string): ScanError {
  const suffix = name.slice(family.length);
  return crashError(`sample "${name}" of gauge histogram "${family}"`, (rules) => rules.gaugeHistogramCrashSuffixes.includes(suffix));
}
