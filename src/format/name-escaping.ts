// Names from new clients (client_golang 1.24 writes non-legacy names quoted,
// `{"my.metric"} 1`; client_python allows UTF-8 names): every released
// node_exporter refuses them, or panics. Prometheus' own escaping schemes
// (prometheus/common model: EscapeName, and EscapeMetricFamily, which leaves
// legacy names alone) turn them into legacy names.
import { isUtf8 } from 'node:buffer';
import { Byte, isBlank, isMetricName, readDirective, skipBlanks, typeWord } from './lex.js';
import { LineTransform, nameText, quotedToken, readSampleHead } from './line-transform.js';
import { memberSuffix, owningFamily } from './shape.js';
import type { MetricFamily, MetricType, Sample } from './types.js';

/** Prometheus' escaping schemes by the names of its `escaping=` parameter. */
export type NameEscaping = 'underscores' | 'dots' | 'values';

export const NAME_ESCAPINGS: readonly NameEscaping[] = ['underscores', 'dots', 'values'];

/** A character a legacy name may hold at `index` (a digit only after the first). */
function isLegacyChar(code: number, index: number): boolean {
  return (
    (code >= 97 && code <= 122) ||
    (code >= 65 && code <= 90) ||
    code === Byte.Underscore ||
    code === Byte.Colon ||
    (code >= 48 && code <= 57 && index > 0)
  );
}

/** Lone surrogates: what a Go string cannot hold as a rune (utf8.ValidRune is false). */
function isSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdfff;
}

/**
 * `name` escaped by `scheme`, character by character as prometheus/common's
 * EscapeName does it:
 * - underscores: every character a legacy name cannot hold becomes `_`;
 * - dots: `_` becomes `__`, `.` becomes `_dot_`, any other such character `__`
 *   (legacy names too: use escapeNonLegacy for the names of a file);
 * - values: `U__`, then `_` as `__` and any other such character as `_hex_`
 *   (its code point in lower-case hex).
 * Legacy names are returned as they are, except by `dots`.
 */
export function escapeName(name: string, scheme: NameEscaping): string {
  if (name === '' || (scheme !== 'dots' && isMetricName(name))) return name;
  let escaped = scheme === 'values' ? 'U__' : '';
  let index = 0;
  for (const char of name) {
    const code = char.codePointAt(0) as number;
    escaped += escapeChar(char, code, index++, scheme);
  }
  return escaped;
}

function escapeChar(char: string, code: number, index: number, scheme: NameEscaping): string {
  if (scheme === 'underscores') return isLegacyChar(code, index) ? char : '_';
  if (code === Byte.Underscore) return '__';
  if (scheme === 'dots') return code === Byte.Dot ? '_dot_' : isLegacyChar(code, index) ? char : '__';
  if (isLegacyChar(code, index)) return char;
  return isSurrogate(code) ? '_FFFD_' : `_${code.toString(16)}_`;
}

/** A metric or label name of a file, as Prometheus escapes a metric family: a legacy name stays as it is. */
export function escapeNonLegacy(name: string, scheme: NameEscaping): string {
  return isMetricName(name) ? name : escapeName(name, scheme);
}

/**
 * Families with their metric and label names escaped; a histogram's or
 * summary's samples keep their suffix (`"a.b"` histogram: `a_dot_b_bucket`).
 */
export function escapeFamilies(families: readonly MetricFamily[], scheme: NameEscaping): MetricFamily[] {
  return families.map((family) => {
    const name = escapeNonLegacy(family.name, scheme);
    const samples = family.samples.map((sample) => escapeSample(sample, family, name, scheme));
    const same = name === family.name && samples.every((sample, i) => sample === family.samples[i]);
    return same ? family : { ...family, name, samples };
  });
}

function escapeSample(sample: Sample, family: MetricFamily, escapedFamily: string, scheme: NameEscaping): Sample {
  const suffix = memberSuffix(family.type, family.name, sample.name);
  const name = suffix === undefined ? escapeNonLegacy(sample.name, scheme) : escapedFamily + suffix;
  const labelNames = Object.keys(sample.labels);
  if (name === sample.name && labelNames.every(isMetricName)) return sample;
  // fromEntries defines each key, `__proto__` too (an assignment would set the prototype).
  const labels = Object.fromEntries(labelNames.map((label) => [escapeNonLegacy(label, scheme), sample.labels[label] as string]));
  return { ...sample, name, labels };
}

/**
 * The line transform for exposition text: quoted names become legacy names,
 * escaped by the scheme, unquoted; everything else is handed on as it is.
 */
export class NameEscaper extends LineTransform {
  /** Non-legacy histograms and summaries by name: their samples keep the suffix after the escaped family name. */
  private readonly shaped = new Map<string, { readonly name: string; readonly type: MetricType }>();

  constructor(
    private readonly scheme: NameEscaping,
    source?: string,
  ) {
    super(source);
  }

  protected line(bytes: Buffer): boolean {
    // Only a quoted name needs escaping; a line with invalid UTF-8 goes to the grammar as it came.
    const converted = bytes.includes(Byte.Quote) && isUtf8(bytes) ? this.convertLine(bytes.toString('utf8')) : undefined;
    if (converted === undefined) return true;
    this.emit(Buffer.from(converted, 'utf8'));
    return false;
  }

  private convertLine(text: string): string | undefined {
    const start = skipBlanks(text, 0, text.length);
    if (start >= text.length) return undefined;
    return text.charCodeAt(start) === Byte.Hash ? this.directive(text, start) : this.sample(text, start);
  }

  /** `# HELP "name" …`, `# TYPE "name" …`. */
  private directive(text: string, hash: number): string | undefined {
    const directive = readDirective(text, hash + 1, text.length);
    if (directive === undefined || directive.nameEnd !== -1) return undefined;
    const token = quotedToken(text, directive.nameStart, text.length);
    if (token === undefined || (token.end < text.length && !isBlank(text.charCodeAt(token.end)))) return undefined;
    const name = nameText(text, token);
    if (!directive.help && !isMetricName(name)) {
      const type = typeWord(text.slice(skipBlanks(text, token.end, text.length)));
      if (type === 'histogram' || type === 'summary') this.shaped.set(name, { name, type });
    }
    return text.slice(0, token.start) + escapeNonLegacy(name, this.scheme) + text.slice(token.end);
  }

  private sample(text: string, start: number): string | undefined {
    const head = readSampleHead(text, start, text.length);
    if (head === undefined || !(head.name.quoted || head.labels.some((label) => label.name.quoted))) return undefined;
    const rest = text.slice(head.end);
    // Unquoted, the name must not run into what follows it.
    if (head.labels.length === 0 && rest !== '' && !isBlank(rest.charCodeAt(0))) return undefined;
    const labels = head.labels.map((label) => {
      const name = label.name.quoted ? escapeNonLegacy(nameText(text, label.name), this.scheme) : nameText(text, label.name);
      return `${name}=${text.slice(label.valueStart, label.valueEnd)}`;
    });
    const name = this.sampleName(nameText(text, head.name));
    return text.slice(0, start) + name + (labels.length > 0 ? `{${labels.join(',')}}` : '') + rest;
  }

  private sampleName(name: string): string {
    if (isMetricName(name)) return name;
    const family = owningFamily(this.shaped, name);
    if (family === undefined || family.name === name) return escapeNonLegacy(name, this.scheme);
    return escapeNonLegacy(family.name, this.scheme) + name.slice(family.name.length);
  }
}
