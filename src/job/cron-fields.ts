// Next and previous matches of a crontab spec on a clock without DST
// changes (UTC wall time shifted by one fixed offset). A zoned schedule uses
// this where the zone keeps one offset around the answer, so that a run does
// not compile and run croner (about 4% of a whole `run`); croner handles the
// rest, and the tests hold both to the same answers.

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** cron's longest wait: 29 February on a given weekday comes round within 28 years. */
const SEARCH_DAYS = 28 * 366;

/** The values each field allows, and whether the day fields are ANDed (one starts with *). */
export interface CronFields {
  readonly minutes: readonly boolean[];
  readonly hours: readonly boolean[];
  readonly days: readonly boolean[];
  readonly months: readonly boolean[];
  readonly weekdays: readonly boolean[];
  readonly daysAnd: boolean;
}

const PART = /^(\*|[0-9]+|[a-zA-Z]{3})(?:-([0-9]+|[a-zA-Z]{3}))?(?:\/([0-9]+))?$/;

/** A field's values, or undefined for anything but plain in-range numbers, names, ranges and steps. */
function values(field: string, min: number, max: number, names: readonly string[] = []): boolean[] | undefined {
  const allowed = new Array<boolean>(max + 1).fill(false);
  const number = (text: string): number => {
    const index = names.indexOf(text.toLowerCase());
    return index !== -1 ? index + min : /^\d+$/.test(text) ? Number(text) : NaN;
  };
  for (const part of field.split(',')) {
    const [, startText, endText, stepText] = PART.exec(part) ?? [];
    if (startText === undefined) return undefined;
    const start = startText === '*' ? min : number(startText);
    const end = startText === '*' ? max : endText === undefined ? start : number(endText);
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!(min <= start && start <= end && end <= max && step >= 1) || (startText === '*' && endText !== undefined)) return undefined;
    for (let value = start; value <= end; value += step) allowed[value] = true;
  }
  return allowed;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** The five fields of a spec, or undefined when any is of a kind this module leaves to croner. */
export function cronFields([minute, hour, dom, month, dow]: readonly string[]): CronFields | undefined {
  if (minute === undefined || hour === undefined || dom === undefined || month === undefined || dow === undefined) return undefined;
  const minutes = values(minute, 0, 59);
  const hours = values(hour, 0, 23);
  const days = values(dom, 1, 31);
  const months = values(month, 1, 12, MONTHS);
  const weekdays = values(dow, 0, 7, DAYS);
  if (!minutes || !hours || !days || !months || !weekdays) return undefined;
  if (weekdays[7]) weekdays[0] = true;
  return { minutes, hours, days, months, weekdays, daysAnd: dom.startsWith('*') || dow.startsWith('*') };
}

/** Does the day starting at `dayMs` (wall clock, UTC fields) match? */
function dayMatches(fields: CronFields, dayMs: number): boolean {
  const date = new Date(dayMs);
  if (!fields.months[date.getUTCMonth() + 1]) return false;
  const day = fields.days[date.getUTCDate()] === true;
  const weekday = fields.weekdays[date.getUTCDay()] === true;
  return fields.daysAnd ? day && weekday : day || weekday;
}

/** The first matching minute of the day at or after `first` (minutes since midnight), hour by hour. */
function firstMinute(fields: CronFields, first: number): number | undefined {
  for (let hour = Math.floor(first / 60); hour < 24; hour++) {
    if (!fields.hours[hour]) continue;
    for (let minute = hour === Math.floor(first / 60) ? first % 60 : 0; minute < 60; minute++)
      if (fields.minutes[minute]) return hour * 60 + minute;
  }
  return undefined;
}

/** The last matching minute of the day at or before `last` (minutes since midnight), hour by hour. */
function lastMinute(fields: CronFields, last: number): number | undefined {
  for (let hour = Math.floor(last / 60); hour >= 0; hour--) {
    if (!fields.hours[hour]) continue;
    for (let minute = hour === Math.floor(last / 60) ? last % 60 : 59; minute >= 0; minute--)
      if (fields.minutes[minute]) return hour * 60 + minute;
  }
  return undefined;
}

/** The first matching minute strictly after `wallMs`, as wall-clock ms; undefined if none comes. */
export function nextWall(fields: CronFields, wallMs: number): number | undefined {
  const from = Math.floor(wallMs / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  let day = Math.floor(from / DAY_MS) * DAY_MS;
  let first = (from - day) / MINUTE_MS;
  for (let n = 0; n < SEARCH_DAYS; n++, day += DAY_MS, first = 0) {
    const minute = dayMatches(fields, day) ? firstMinute(fields, first) : undefined;
    if (minute !== undefined) return day + minute * MINUTE_MS;
  }
  return undefined;
}

/** The last matching minute strictly before `wallMs`, as wall-clock ms; undefined if none. */
export function previousWall(fields: CronFields, wallMs: number): number | undefined {
  const from = Math.ceil(wallMs / MINUTE_MS) * MINUTE_MS - MINUTE_MS;
  let day = Math.floor(from / DAY_MS) * DAY_MS;
  let last = (from - day) / MINUTE_MS;
  for (let n = 0; n < SEARCH_DAYS; n++, day -= DAY_MS, last = 1439) {
    const minute = dayMatches(fields, day) ? lastMinute(fields, last) : undefined;
    if (minute !== undefined) return day + minute * MINUTE_MS;
  }
  return undefined;
}
