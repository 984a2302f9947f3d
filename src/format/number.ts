// Numbers as node_exporter reads them: expfmt's parseFloat is Go's
// strconv.ParseFloat with 'p', 'P' and '_' refused first.

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
