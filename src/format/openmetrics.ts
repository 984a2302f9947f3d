// OpenMetrics input (`write --from openmetrics`): node_exporter reads only the
// text format 0.0.4, so OpenMetrics piped into its directory loses the file.
// This line transform turns OpenMetrics into what the text format can carry,
// as Prometheus ingests it, and counts what it drops; the one grammar then
// reads its output. Without the conversion, OpenMetricsDetector refuses
// OpenMetrics, so it is never half-read as text.
import { parseGoFloat } from './number.js';
import { Byte, codeAt, type Codes, isBlank, readDirective, skipBlanks } from './lex.js';
import { ChunkLines } from './lines.js';
import { LineTransform, nameText, nameToken, readSampleHead, type NameToken } from './line-transform.js';
import { ExpositionError } from '../errors.js';
import type { Problem } from './types.js';

/**
 * What each OpenMetrics type becomes: the text-format type, and the suffix the
 * family's name takes so that it names its samples (counters' `_total`, info's
 * `_info`). gaugehistogram is handed on as it is: the grammar judges it.
 */
const TEXT_FORMS: Readonly<Record<string, { readonly type: string; readonly suffix: string }>> = {
  counter: { type: 'counter', suffix: '_total' },
  gauge: { type: 'gauge', suffix: '' },
  histogram: { type: 'histogram', suffix: '' },
  summary: { type: 'summary', suffix: '' },
  info: { type: 'gauge', suffix: '_info' },
  stateset: { type: 'gauge', suffix: '' },
  unknown: { type: 'untyped', suffix: '' },
};

/** The types whose families may carry a `_created` sample. */
const CREATED_IN = new Set(['counter', 'histogram', 'summary']);

/** What is dropped, by kind, for the summary said on stderr. */
type Dropped = 'unit' | 'created' | 'exemplar';

const DROPPED: Readonly<Record<Dropped, { one: string; many: string; why: string }>> = {
  unit: { one: '"# UNIT" line', many: '"# UNIT" lines', why: 'the text format has no units' },
  created: { one: '_created sample', many: '_created samples', why: 'the text format has no creation time' },
  exemplar: { one: 'exemplar', many: 'exemplars', why: 'the text format has none' },
};

/** A HELP, TYPE or UNIT line held until its family's type is known (OpenMetrics puts them in any order). */
interface Held {
  readonly text: string;
  readonly keyword: 'HELP' | 'TYPE' | 'UNIT';
  readonly name: NameToken;
}

export class OpenMetricsConverter extends LineTransform {
  private held: Held[] = [];
  private heldName: string | undefined;
  /** The family whose samples come now: its name as written (quoted names still escaped) and its OpenMetrics type. */
  private family: { name: string; type: string | undefined } | undefined;
  private eof: number | undefined;
  private readonly dropped = new Map<Dropped, { first: number; count: number }>();

  /** What was dropped, one notice per kind, naming the first line and how many. */
  notices(): Problem[] {
    return [...this.dropped].map(([kind, { first, count }]) => {
      const { one, many, why } = DROPPED[kind];
      const what = count === 1 ? `1 ${one}` : `${count} ${many}, the first here`;
      return { severity: 'notice', rule: 'openmetrics', message: `OpenMetrics input: dropped ${what} (${why})`, line: first };
    });
  }

  protected line(bytes: Buffer, lineNo: number): boolean {
    const start = skipBlanks(bytes, 0, bytes.length);
    if (this.eof !== undefined) {
      if (start < bytes.length) throw this.refuse(`text after "# EOF" (line ${this.eof}): OpenMetrics ends there`, lineNo);
      return true;
    }
    // latin1: one character per byte, so bytes come back exactly as they were (names are ASCII or quoted).
    if (start < bytes.length && bytes[start] === Byte.Hash) return this.comment(bytes.toString('latin1'), start, lineNo);
    this.flush();
    return start >= bytes.length || this.sample(bytes, start, lineNo);
  }

  protected override finish(lineNo: number): void {
    if (this.eof === undefined)
      throw this.refuse(
        'the OpenMetrics input ends without "# EOF", so it may be cut off half-way (truncated); nothing was written',
        lineNo,
      );
  }

  /** A comment: `# EOF`, HELP/TYPE/UNIT (held until the family's type is known), or another, handed on. */
  private comment(text: string, hash: number, lineNo: number): boolean {
    if (text === '# EOF') {
      this.flush();
      this.eof = lineNo;
      // OpenMetrics may end "# EOF" without a newline; the text format may not.
      this.emitWithNewline(text);
      return false;
    }
    const metadata = readMetadata(text, hash);
    if (metadata === undefined) {
      this.flush();
      return true;
    }
    const name = text.slice(metadata.name.start, metadata.name.end);
    if (this.heldName !== name) this.flush();
    this.heldName = name;
    this.held.push({ text, ...metadata });
    if (metadata.keyword === 'UNIT') this.drop('unit', lineNo);
    return false;
  }

  /** The held HELP/TYPE/UNIT lines of one family, with its text-format name and type. */
  private flush(): void {
    if (this.held.length === 0) return;
    const typeLine = this.held.find((line) => line.keyword === 'TYPE');
    const type =
      typeLine === undefined ? undefined : typeLine.text.slice(skipBlanks(typeLine.text, typeLine.name.end, typeLine.text.length));
    const form = type === undefined ? undefined : TEXT_FORMS[type];
    for (const line of this.held) this.emitWithNewline(form === undefined ? line.text : convertMetadata(line, form));
    this.family = { name: nameText(this.held[0]?.text ?? '', this.held[0]?.name as NameToken), type };
    this.held = [];
    this.heldName = undefined;
  }

  /** A sample: `_created` dropped, exemplar dropped, timestamp in seconds made milliseconds (the grammar's timestamp rule then applies). */
  private sample(bytes: Buffer, start: number, lineNo: number): boolean {
    const head = readSampleHead(bytes, start, bytes.length);
    if (head === undefined) return true;
    const family = this.family;
    if (family?.type !== undefined && CREATED_IN.has(family.type) && nameText(bytes, head.name) === `${family.name}_created`) {
      this.drop('created', lineNo);
      this.emit('');
      return false;
    }
    const value = tokenEnd(bytes, skipBlanks(bytes, head.end, bytes.length));
    const next = skipBlanks(bytes, value, bytes.length);
    // A value alone (nearly every line) is handed on as it came, without decoding it.
    if (next >= bytes.length) return true;
    const converted = this.afterValue(bytes.toString('latin1'), value, next, lineNo);
    if (converted === undefined) return true;
    this.emit(converted);
    return false;
  }

  /** What follows the value: a timestamp in seconds, made milliseconds, and an exemplar, dropped. */
  private afterValue(text: string, value: number, next: number, lineNo: number): string | undefined {
    if (text.charCodeAt(next) === Byte.Hash) return this.withoutExemplar(text.slice(0, value), lineNo);
    const stamp = tokenEnd(text, next);
    const after = skipBlanks(text, stamp, text.length);
    const kept = `${text.slice(0, value)} ${milliseconds(text.slice(next, stamp))}`;
    if (after >= text.length) return kept;
    return text.charCodeAt(after) === Byte.Hash ? this.withoutExemplar(kept, lineNo) : undefined;
  }

  private withoutExemplar(kept: string, lineNo: number): string {
    this.drop('exemplar', lineNo);
    return kept;
  }

  private drop(kind: Dropped, lineNo: number): void {
    const entry = this.dropped.get(kind);
    if (entry === undefined) this.dropped.set(kind, { first: lineNo, count: 1 });
    else entry.count++;
  }
}

/** Where the token starting at `pos` ends (the next blank, or the end). */
function tokenEnd(codes: Codes, pos: number): number {
  let p = pos;
  while (p < codes.length && !isBlank(codeAt(codes, p))) p++;
  return p;
}

/** An OpenMetrics timestamp (seconds, maybe with decimals) as the text format's milliseconds; as it is when it is no number. */
function milliseconds(token: string): string {
  const seconds = parseGoFloat(token);
  if (seconds === undefined || !Number.isFinite(seconds)) return token;
  // BigInt: toFixed writes 1e21 and more in exponent form, which the grammar would word as no integer at all.
  return BigInt(Math.round(seconds * 1000)).toString();
}

/** `# HELP name …`, `# TYPE name …` (lex's readDirective) or `# UNIT name …`, up to the name. */
function readMetadata(text: string, hash: number): { keyword: Held['keyword']; name: NameToken } | undefined {
  const directive = readDirective(text, hash + 1, text.length);
  let keyword: Held['keyword'];
  let nameStart: number;
  if (directive !== undefined) {
    keyword = directive.help ? 'HELP' : 'TYPE';
    nameStart = directive.nameStart;
  } else {
    const word = skipBlanks(text, hash + 1, text.length);
    if (!text.startsWith('UNIT', word) || !isBlank(text.charCodeAt(word + 4))) return undefined;
    keyword = 'UNIT';
    nameStart = skipBlanks(text, word + 4, text.length);
  }
  const name = nameToken(text, nameStart, text.length);
  if (name === undefined || (name.end < text.length && !isBlank(text.charCodeAt(name.end)))) return undefined;
  return { keyword, name };
}

/** A HELP or TYPE line of a family converted: its name with the suffix, a TYPE line's type, HELP's `\"` unescaped. */
function convertMetadata(line: Held, form: { readonly type: string; readonly suffix: string }): string {
  if (line.keyword === 'UNIT') return line.text;
  const { text, name } = line;
  const written = text.slice(name.start, name.end);
  const closing = name.quoted ? 1 : 0;
  const bare = written.slice(0, written.length - closing);
  const renamed = bare.endsWith(form.suffix) ? written : `${bare}${form.suffix}${name.quoted ? '"' : ''}`;
  const before = text.slice(0, name.start) + renamed;
  if (line.keyword === 'TYPE') return `${before} ${form.type}`;
  const help = text.slice(skipBlanks(text, name.end, text.length));
  // The text format's HELP knows `\\` and `\n`; OpenMetrics' `\"` is a plain quote there.
  return help === '' ? before : `${before} ${help.replace(/\\([\s\S])/g, (escape, char: string) => (char === '"' ? '"' : escape))}`;
}

/**
 * Hands the input on unchanged, refusing OpenMetrics, which the text
 * format's grammar would read as other metrics (a counter's `x_total`
 * samples as an untyped metric) or not at all. Every OpenMetrics exposition
 * ends with `# EOF`, so only the last line is looked at: a search through
 * every chunk cost the 1M-series write 2-3% (measured: 25-45 ms of memchr
 * for '#' over its 92 MB). OpenMetrics-only TYPE words (info, stateset)
 * anywhere are refused by the grammar itself.
 */
export class OpenMetricsDetector {
  private readonly lines = new ChunkLines((buf, start, end) => this.read(buf, start, end));
  private last = '';

  constructor(private readonly source?: string) {}

  /** The input, unchanged; throws once it has ended with `# EOF`. */
  async *watch(input: AsyncIterable<Uint8Array | string>): AsyncGenerator<Uint8Array> {
    for await (const chunk of input) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      this.lines.push(bytes);
      yield bytes;
    }
    this.lines.end();
    if (this.last !== '# EOF') return;
    const problem = {
      severity: 'error' as const,
      rule: 'openmetrics' as const,
      message: 'the input ends with "# EOF": it is OpenMetrics, and node_exporter reads only the text format',
      wholeFile: true,
    };
    throw new ExpositionError(problem, this.source);
  }

  /** The last line of the run that is not blank, if it has one. */
  private read(buf: Buffer, start: number, end: number): number {
    let stop = end;
    while (stop > start) {
      const lineEnd = buf[stop - 1] === Byte.Newline ? stop - 1 : stop;
      const lineStart = lineEnd > start ? buf.lastIndexOf(Byte.Newline, lineEnd - 1) + 1 : start;
      const line = buf.toString('latin1', Math.max(lineStart, start), lineEnd);
      if (line.trim() !== '') {
        this.last = line;
        break;
      }
      stop = Math.max(lineStart, start);
    }
    return end;
  }
}
