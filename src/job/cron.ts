// Crontab time specs (`run --schedule`) read the way Debian's cron daemon
// (Vixie cron 3.0) reads them: the day-of-month/day-of-week rule, @aliases,
// the DST handling of fixed-time and wildcard jobs, and only the syntax cron
// itself accepts. croner computes the times.
import { Cron } from 'croner';
import { InputError, messageOf } from '../errors.js';
import { checkTimeZone, type Schedule } from './schedule.js';
import { systemZone } from './zone.js';

const ALIASES: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** One comma-separated part of a field: `*`, `N`, `N-M`, with a step only after `*` or a range (as cron's entry.c). No /i: case folding loads ICU's case tables. */
const PART = /^(\*|[0-9A-Za-z]+)(?:-([0-9A-Za-z]+))?(?:\/(\d+))?$/;

function invalid(text: string, why: string): InputError {
  return new InputError('ERR_INVALID_ARGUMENT', `schedule "${text}": ${why}`);
}

/** Check a field's syntax; `names` are the 3-letter names it may use. */
function checkField(text: string, field: string, what: string, names: readonly string[]): void {
  for (const part of field.split(',')) {
    const match = PART.exec(part);
    if (!match) throw invalid(text, `${what} "${field}": use numbers, *, ",", "-" and "/" only (no ? L W # or seconds)`);
    const [, start, end, step] = match as unknown as [string, string, string | undefined, string | undefined];
    if (step !== undefined && start !== '*' && end === undefined)
      throw invalid(text, `${what} "${field}": a step needs * or a range before it (${start}-MAX/${step}, not ${start}/${step})`);
    for (const word of [start, end]) {
      if (word === undefined || word === '*' || /^\d+$/.test(word)) continue;
      if (names.length === 0) throw invalid(text, `${what} "${field}": "${word}" is not a number (no ? L W # or seconds)`);
      if (!names.includes(word.toLowerCase())) throw invalid(text, `${what} "${field}": "${word}" is not a ${what} name`);
    }
  }
}

/**
 * A minute or hour field as an explicit list: croner (fixedTimeRule
 * 'no-wildcard') then calls a job fixed-time exactly when cron does, which is
 * when neither field starts with `*` (`0-59/20` is fixed, `*\/20` is not).
 */
function expandField(text: string, field: string, what: string, max: number): string {
  if (field.startsWith('*')) return field;
  const values = new Set<number>();
  for (const part of field.split(',')) {
    const [, startText, endText, stepText] = PART.exec(part) as unknown as [string, string, string | undefined, string | undefined];
    const start = Number(startText);
    const end = endText === undefined ? start : Number(endText);
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!(start <= end && end <= max && step >= 1)) throw invalid(text, `${what} "${field}" is out of range (0-${max})`);
    for (let value = start; value <= end; value += step) values.add(value);
  }
  return [...values].sort((a, b) => a - b).join(',');
}

/** The pattern and the cron rules croner needs, checked; the zone is added per use. */
type CronMaker = (zone?: { timezone: string } | { utcOffset: number }) => Cron;

/**
 * Around a DST change cron's rules (a skipped fixed-time job runs late, a
 * repeated one runs once) act within hours of it; a day either side is clear.
 */
const DST_MARGIN_MS = 86_400_000;

const nextOf = (cron: Cron, afterMs: number): number | undefined => cron.nextRun(new Date(afterMs))?.getTime();
const previousOf = (cron: Cron, beforeMs: number): number | undefined => cron.previousRuns(1, new Date(beforeMs))[0]?.getTime();

/**
 * A schedule in a named zone. Where the system's tz file shows one offset from
 * a day before to a day after the answer, the zone is that fixed offset there,
 * and croner computes without Intl; near a DST change (and past the file's
 * table) croner computes in the zone itself, through Intl.
 */
function zonedSchedule(text: string, make: CronMaker, zone: string): Schedule {
  const offsets = systemZone(zone);
  const fixed = new Map<number, Cron>();
  let inZone: Cron | undefined;
  const slow = (): Cron => (inZone ??= make({ timezone: zone }));
  const atOffset = (ms: number): Cron | undefined => {
    const offset = offsets?.offsetAt(ms);
    if (offset === undefined || !Number.isInteger(offset)) return undefined;
    let cron = fixed.get(offset);
    if (!cron) fixed.set(offset, (cron = make({ utcOffset: offset })));
    return cron;
  };
  const steady = (fromMs: number, toMs: number): boolean => offsets?.steady(fromMs - DST_MARGIN_MS, toMs + DST_MARGIN_MS) === true;
  return {
    text,
    next: (afterMs) => {
      const cron = atOffset(afterMs);
      const nextMs = cron && nextOf(cron, afterMs);
      return nextMs !== undefined && steady(afterMs, nextMs) ? nextMs : nextOf(slow(), afterMs);
    },
    previous: (beforeMs) => {
      const cron = atOffset(beforeMs);
      const previousMs = cron && previousOf(cron, beforeMs);
      return previousMs !== undefined && steady(previousMs, beforeMs) ? previousMs : previousOf(slow(), beforeMs);
    },
  };
}

/** A schedule in this process's local zone (Date's own, which needs no Intl). */
function localSchedule(text: string, make: CronMaker): Schedule {
  const cron = make();
  return { text, next: (afterMs) => nextOf(cron, afterMs), previous: (beforeMs) => previousOf(cron, beforeMs) };
}

/** The croner pattern (minute and hour expanded) and a maker for it; throws InputError. */
function cronMaker(text: string, spec: string): CronMaker {
  const fields = spec.split(/[ \t]+/);
  if (fields.length !== 5) throw invalid(text, 'expected 5 fields: minute hour day-of-month month day-of-week');
  const [minute, hour, dom, month, dow] = fields as [string, string, string, string, string];
  checkField(text, minute, 'minute', []);
  checkField(text, hour, 'hour', []);
  checkField(text, dom, 'day of month', []);
  checkField(text, month, 'month', MONTHS);
  checkField(text, dow, 'day of week', DAYS);
  const pattern = [expandField(text, minute, 'minute', 59), expandField(text, hour, 'hour', 23), dom, month, dow].join(' ');
  // croner judges the pattern when it is first built (parseCronSchedule asks for the next run at once),
  // so no instance is built only to check it.
  return (zone) => {
    try {
      return new Cron(pattern, {
        mode: '5-part',
        fixedTimeRule: 'no-wildcard',
        // cron ORs the two day fields when both are restricted, and a field starting with * counts as unrestricted.
        domAndDow: dom.startsWith('*') || dow.startsWith('*'),
        ...zone,
      });
    } catch (error) {
      throw invalid(text, messageOf(error).replace(/^CronPattern: /, ''));
    }
  };
}

/**
 * A crontab time spec (5 fields or an @alias) in `zone` (default: this
 * process's local zone, which is what Debian's cron uses).
 */
export function parseCronSchedule(text: string, zone?: string): Schedule {
  let spec = text.trim();
  if (spec.startsWith('@')) {
    if (spec === '@reboot') throw invalid(text, '@reboot is not a time schedule, so no run is ever due');
    const alias = ALIASES[spec.toLowerCase()];
    if (alias === undefined) throw invalid(text, `unknown ${spec} (use ${Object.keys(ALIASES).join(', ')})`);
    spec = alias;
  }
  const make = cronMaker(text, spec);
  if (zone !== undefined) checkTimeZone(zone, 'time zone');
  const schedule = zone === undefined ? localSchedule(text, make) : zonedSchedule(text, make, zone);
  if (schedule.next(Date.now()) === undefined) throw invalid(text, 'it never comes round (no such date)');
  return schedule;
}
