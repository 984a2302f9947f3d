import { InputError } from '../errors.js';

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * Parse a duration such as `500ms`, `30s`, `2h`, `7d` or `1h30m` into
 * milliseconds. A number needs its unit (0 aside): `--timeout 2` read as seconds
 * came back as "timed out after 2", and minutes were as likely meant.
 */
export function parseDuration(text: string, what = 'duration'): number {
  if (/^0+(\.0+)?$/.test(text)) return 0;
  if (/^\d+(\.\d+)?$/.test(text))
    throw new InputError('ERR_INVALID_ARGUMENT', `${what} "${text}" needs a unit, e.g. ${text}s or ${text}m (ms, s, m, h, d, w)`);
  const parts = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/.test(text) ? text.match(/\d+(?:\.\d+)?(?:ms|s|m|h|d|w)/g) : null;
  if (!parts) throw new InputError('ERR_INVALID_ARGUMENT', `${what} "${text}" is not a duration (e.g. 500ms, 30s, 5m, 2h, 7d)`);
  let total = 0;
  for (const part of parts) {
    const [, amount, unit] = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(part) as RegExpExecArray;
    total += Number(amount) * (UNITS[unit as string] as number);
  }
  return total;
}

/** A duration that must be more than 0 (or may be 0 with `allowZero`). */
export function positiveDuration(text: string, what: string, allowZero: boolean): number {
  const ms = parseDuration(text, what);
  if (ms < 0 || (!allowZero && ms === 0)) throw new InputError('ERR_INVALID_ARGUMENT', `${what} "${text}" must be more than 0`);
  return ms;
}
