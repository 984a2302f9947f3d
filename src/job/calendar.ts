// systemd calendar expressions (`run --on-calendar`, a timer's OnCalendar=),
// computed by systemd's own code: `systemd-analyze calendar` runs without a
// running systemd, so promfile never re-implements systemd's calendar rules
// (DST gaps, time zone suffixes, `..` ranges, `~` last days).
import { spawnSync } from 'node:child_process';
import { InputError, IoError, errnoOf } from '../errors.js';
import type { Schedule } from './schedule.js';

/** How long one systemd tool (systemd-analyze, systemctl) may take. */
export const SYSTEMD_TOOL_TIMEOUT_MS = 10_000;

/** What the systemd tools run with: the environment (PATH, TZ) and a time bound. */
export interface SystemdToolOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly timeoutMs?: number;
}

/** How many elapses one `systemd-analyze calendar` call lists when looking back. */
const LOOK_BACK_ITERATIONS = 64;
/** Calls one look back may make before it gives up (the interval then counts from the start). */
const LOOK_BACK_CALLS = 24;

/**
 * Run one systemd tool in the C locale; its stdout, or a clear error: the
 * tool missing, timed out, or failing (with its own first line of stderr).
 */
export function runSystemdTool(
  command: string,
  args: readonly string[],
  options: SystemdToolOptions,
  why: { needs: string; instead: string },
): { status: number; stdout: string; stderr: string } {
  const env = { ...options.env, LC_ALL: 'C', SYSTEMD_PAGER: '', SYSTEMD_COLORS: '0' };
  const result = spawnSync(command, args, {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: options.timeoutMs ?? SYSTEMD_TOOL_TIMEOUT_MS,
    killSignal: 'SIGKILL',
    maxBuffer: 1 << 20,
  });
  if (result.error !== undefined) {
    if (errnoOf(result.error) === 'ENOENT')
      throw new IoError('ERR_SYSTEMD_UNAVAILABLE', `${why.needs} needs ${command}, which is not installed (${why.instead})`, {
        cause: result.error,
      });
    if (errnoOf(result.error) === 'ETIMEDOUT')
      throw new IoError('ERR_TIMEOUT', `${command} did not answer within ${(options.timeoutMs ?? SYSTEMD_TOOL_TIMEOUT_MS) / 1000}s`, {
        cause: result.error,
      });
    throw new IoError('ERR_SYSTEMD_UNAVAILABLE', `cannot run ${command}: ${result.error.message}`, { cause: result.error });
  }
  if (result.signal !== null) throw new IoError('ERR_SYSTEMD_UNAVAILABLE', `${command} was killed by ${result.signal}`);
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

/** `Sat 2026-03-28 23:21:00 UTC` (or `@SECONDS`) as Unix ms; undefined for anything else. */
export function parseUtcTimestamp(text: string): number | undefined {
  const unix = /^@(\d+(?:\.\d+)?)$/.exec(text.trim());
  if (unix) return Math.round(Number(unix[1]) * 1000);
  const match = /^(?:[A-Za-z]+ )?(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))? UTC$/.exec(text.trim());
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const fraction = match[7] === undefined ? 0 : Number(`0.${match[7]}`);
  return Date.UTC(year, month - 1, day, hour, minute, second) + Math.floor(fraction * 1000);
}

/**
 * The elapses `systemd-analyze calendar` lists, in Unix ms: each `Next elapse:`
 * or `Iter. #N:` line, read from the `(in UTC):` line after it, or from the line
 * itself when it is already in UTC. `never` lists none.
 */
export function parseCalendarOutput(stdout: string): number[] {
  const entries: Array<{ local: string; utc?: string }> = [];
  for (const line of stdout.split('\n')) {
    const elapse = /^\s*(?:Next elapse|Iter\. #\d+):\s*(.*)$/.exec(line);
    if (elapse) {
      if ((elapse[1] as string).trim() !== 'never') entries.push({ local: elapse[1] as string });
      continue;
    }
    const utc = /^\s*\(in UTC\):\s*(.*)$/.exec(line);
    const last = entries[entries.length - 1];
    if (utc && last) last.utc = utc[1] as string;
  }
  return entries.map(({ local, utc }) => {
    const ms = parseUtcTimestamp(utc ?? local);
    if (ms === undefined)
      throw new IoError('ERR_SYSTEMD_UNAVAILABLE', `systemd-analyze calendar printed an elapse promfile cannot read: "${utc ?? local}"`);
    return ms;
  });
}

/** A calendar expression in one zone: its elapses after a time, asked of systemd-analyze. */
export class CalendarSpec {
  constructor(
    readonly text: string,
    private readonly options: SystemdToolOptions & { readonly zone?: string },
  ) {}

  /** The first `iterations` elapses strictly after `afterMs` (fewer when the expression runs out). */
  elapses(afterMs: number, iterations: number): number[] {
    const env = this.options.zone === undefined ? this.options.env : { ...this.options.env, TZ: this.options.zone };
    const base = `@${(Math.max(afterMs, 0) / 1000).toFixed(3)}`;
    const { status, stdout, stderr } = runSystemdTool(
      'systemd-analyze',
      ['calendar', `--iterations=${iterations}`, `--base-time=${base}`, this.text],
      { ...this.options, env },
      { needs: 'a systemd calendar expression', instead: 'give the schedule as a crontab line with --schedule' },
    );
    if (status !== 0) {
      const why = (stderr.trim().split('\n')[0] ?? '').replace(/^Failed to parse calendar specification '.*': /, '');
      throw new InputError(
        'ERR_INVALID_ARGUMENT',
        `calendar expression "${this.text}": systemd does not accept it (${why || `systemd-analyze exited ${status}`})`,
      );
    }
    return parseCalendarOutput(stdout);
  }

  /** The first elapse strictly after `afterMs`. */
  next(afterMs: number): number | undefined {
    return this.elapses(afterMs, 1)[0];
  }

  /**
   * The last elapse strictly before `beforeMs`. systemd only counts forward,
   * so look back over a window that grows eightfold until it holds an elapse,
   * then halve the stretch between the latest elapse found and the nearest
   * base known to have none before `beforeMs`. Bounded; undefined when not found.
   */
  previous(beforeMs: number, hintMs = 60_000): number | undefined {
    let span = Math.max(hintMs, 1000);
    let found: number | undefined;
    // No elapse lies between `empty` and beforeMs.
    let empty = beforeMs;
    for (let call = 0; call < LOOK_BACK_CALLS; call++) {
      const base = found === undefined ? Math.max(beforeMs - span - 1000, 0) : Math.floor((found + empty) / 2);
      const elapses = this.elapses(base, LOOK_BACK_ITERATIONS);
      const before = elapses.filter((ms) => ms < beforeMs);
      const complete = before.length < elapses.length || elapses.length < LOOK_BACK_ITERATIONS;
      if (before.length > 0) {
        found = before[before.length - 1];
        if (complete) return found;
      } else if (found !== undefined) {
        if (base <= found) return found;
        empty = base;
      } else if (base === 0) return undefined;
      else span *= 8;
    }
    return undefined;
  }
}

/**
 * A `run --on-calendar` schedule: the expression as systemd reads it, in
 * `zone` (the TZ systemd-analyze runs with; default this process's local time,
 * which is systemd's too). Throws InputError unless systemd accepts it and it
 * elapses again.
 */
export function parseCalendarSchedule(
  text: string,
  options: SystemdToolOptions & { readonly zone?: string; readonly nowMs: number },
): Schedule {
  const spec = new CalendarSpec(text.trim(), options);
  const [first, second] = spec.elapses(options.nowMs, 2);
  if (first === undefined) throw new InputError('ERR_INVALID_ARGUMENT', `calendar expression "${text}" never elapses again`);
  // The gap after the next elapse is the first guess at the gap before it.
  const hint = second === undefined ? undefined : second - first;
  return {
    text,
    // Between the time it was checked at and its first elapse, the next elapse is known already.
    next: (afterMs) => (afterMs >= options.nowMs && afterMs < first ? first : spec.next(afterMs)),
    previous: (beforeMs) => spec.previous(beforeMs, hint),
  };
}
