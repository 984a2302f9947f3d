// unit: the .service + .timer pair of a new job (job/unit.ts renders and writes them).
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, resolve } from 'node:path';
import type { Command } from 'commander';
import { errnoOf, InputError, IoError } from '../../errors.js';
import { parseBuckets } from '../../format/histogram.js';
import { parseCalendarSchedule } from '../../job/calendar.js';
import { DEFAULT_UNIT_DIR, timerJobUnits, unitsText, writeUnitFiles, type TimerJobSpec } from '../../job/unit.js';
import { resolveTarget } from '../../textfile/files.js';
import { writeOptions, type WriteFlags } from '../common.js';
import { parseDuration, positiveDuration } from '../duration.js';
import type { CliIo, CommandContext } from '../io.js';
import { resolveOwner } from '../owner.js';
import { runLabels } from './run.js';

export interface UnitFlags extends WriteFlags {
  onCalendar: string;
  randomizedDelay?: string;
  accuracy?: string;
  persistent?: boolean;
  write?: string | true;
  force?: boolean;
  timeout?: string;
  staleAfter?: string;
  killAfter?: string;
  label?: string[];
  grace?: string;
  durationBuckets?: string;
}

/** unit's own options; every other option given is promfile run's, for the service's command line. */
const OWN_OPTIONS = new Set(['onCalendar', 'randomizedDelay', 'accuracy', 'persistent', 'write', 'force', 'trustParent']);
/** run's options whose value is a path: the service runs in /, so a relative one is made absolute here. */
const PATH_OPTIONS = new Set(['dir', 'filePath']);
/** Where the .deb installs promfile, for when no promfile is on PATH. */
const INSTALLED_PROMFILE = '/usr/bin/promfile';

/** The executable `name` on PATH, as an absolute path (what systemd-run does for its command); undefined if none. */
function onPath(name: string, env: CliIo['env']): string | undefined {
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    const candidate = resolve(dir || '.', name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // Not here: the next directory.
    }
  }
  return undefined;
}

/** The job's command with its executable as an absolute path: systemd starts the service with its own PATH, in /. */
function absoluteCommand(command: readonly string[], io: CliIo): string[] {
  const [executable, ...args] = command as [string, ...string[]];
  if (executable.includes('/')) return [resolve(executable), ...args];
  const found = onPath(executable, io.env);
  if (found === undefined)
    throw new InputError(
      'ERR_INVALID_ARGUMENT',
      `command "${executable}" is not on PATH: give its absolute path (the service does not run with this PATH)`,
    );
  return [found, ...args];
}

/** Check run's options here, so that a mistake fails now and not at the timer's first run. */
async function checkRunOptions(name: string, flags: UnitFlags, io: CliIo): Promise<void> {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name) || /\.(service|timer)$/.test(name) || name.length > 200)
    throw new InputError(
      'ERR_INVALID_ARGUMENT',
      `unit name "${name}": use letters, digits, "_", "." and "-", not starting with "." or "-", without .service or .timer (it is also the job's name)`,
    );
  if (flags.file !== undefined && flags.filePath !== undefined)
    throw new InputError('ERR_INVALID_ARGUMENT', '-f/--file and --file-path cannot be used together');
  if (flags.file !== undefined) resolveTarget({ dir: '.', name: flags.file });
  if (flags.filePath !== undefined) resolveTarget({ path: flags.filePath });
  if (flags.timeout !== undefined) positiveDuration(flags.timeout, '--timeout', false);
  if (flags.staleAfter !== undefined) positiveDuration(flags.staleAfter, '--stale-after', false);
  if (flags.killAfter !== undefined) positiveDuration(flags.killAfter, '--kill-after', true);
  if (flags.grace !== undefined) parseDuration(flags.grace, '--grace');
  if (flags.durationBuckets !== undefined) parseBuckets(flags.durationBuckets, '--duration-buckets');
  runLabels({ job: name, ...(flags.label !== undefined ? { label: flags.label } : {}) });
  // --mode and --lock-timeout as every writer reads them; --owner only resolved, since the service runs as root, not as whoever generates it.
  const { owner, ...writeFlags } = flags;
  await writeOptions(writeFlags, io);
  if (owner !== undefined) await resolveOwner(owner);
}

/** The run options given on the command line (not defaults), as arguments of `promfile run`. */
function runArguments(declared: Command): string[] {
  const args: string[] = [];
  for (const option of declared.options) {
    const key = option.attributeName();
    if (OWN_OPTIONS.has(key) || declared.getOptionValueSource(key) !== 'cli') continue;
    const flag = option.long ?? option.short ?? `--${key}`;
    const value: unknown = declared.getOptionValue(key);
    if (typeof value === 'boolean') args.push(flag);
    else
      for (const one of Array.isArray(value) ? value : [value]) args.push(flag, PATH_OPTIONS.has(key) ? resolve(String(one)) : String(one));
  }
  return args;
}

/** --on-calendar, as systemd reads it: refused now if systemd does not accept it or it never elapses again. */
function checkCalendar(spec: string, io: CliIo): void {
  try {
    parseCalendarSchedule(spec, { env: io.env, nowMs: io.now() });
  } catch (error) {
    if (error instanceof InputError) throw new InputError(error.code, `--on-calendar: ${error.message}`, { cause: error });
    if (error instanceof IoError && errnoOf(error.cause) === 'ENOENT')
      throw new IoError(
        'ERR_SYSTEMD_UNAVAILABLE',
        '--on-calendar: promfile unit checks the expression with systemd-analyze, which is not installed',
        {
          cause: error,
        },
      );
    throw error;
  }
}

/** The timer's delays given as durations, in ms. */
function timerDelays(flags: UnitFlags): Pick<TimerJobSpec, 'randomizedDelayMs' | 'accuracyMs'> {
  return {
    ...(flags.randomizedDelay !== undefined ? { randomizedDelayMs: parseDuration(flags.randomizedDelay, '--randomized-delay') } : {}),
    ...(flags.accuracy !== undefined ? { accuracyMs: parseDuration(flags.accuracy, '--accuracy') } : {}),
  };
}

export async function unitAction(
  io: CliIo,
  context: CommandContext,
  given: { name: string; command: string[]; flags: UnitFlags; declared: Command },
): Promise<void> {
  const { name, command, flags, declared } = given;
  const dash = context.args?.indexOf('--') ?? -1;
  if (context.args !== undefined && (dash < 0 || context.args.length - dash - 1 !== command.length))
    throw new InputError(
      'ERR_INVALID_ARGUMENT',
      "put -- before the command, so that none of its options is taken for promfile's: promfile unit NAME --on-calendar SPEC [options] -- COMMAND [ARGS...]",
    );
  if (flags.force === true && flags.write === undefined) throw new InputError('ERR_INVALID_ARGUMENT', '--force needs --write');
  await checkRunOptions(name, flags, io);
  checkCalendar(flags.onCalendar, io);
  const spec: TimerJobSpec = {
    name,
    onCalendar: flags.onCalendar,
    ...timerDelays(flags),
    persistent: flags.persistent === true,
    execStart: [
      promfileExecutable(io),
      'run',
      '--timer',
      `${name}.timer`,
      '--job',
      name,
      ...runArguments(declared),
      '--',
      ...absoluteCommand(command, io),
    ],
  };
  const units = timerJobUnits(spec);
  if (flags.write === undefined) {
    io.stdout.write(unitsText(units));
    return;
  }
  const dir = resolve(flags.write === true ? DEFAULT_UNIT_DIR : flags.write);
  const paths = await writeUnitFiles(dir, units, { force: flags.force === true });
  io.stderr.write(
    `promfile: wrote ${paths.join(' and ')}; start the timer with: systemctl daemon-reload && systemctl enable --now ${name}.timer\n`,
  );
}

/** The promfile the service runs: the one on PATH, else where the .deb installs it. */
function promfileExecutable(io: CliIo): string {
  const found = onPath('promfile', io.env);
  if (found !== undefined) return found;
  io.stderr.write(`promfile: warning: no promfile on PATH; the service runs ${INSTALLED_PROMFILE}, where the .deb installs it\n`);
  return INSTALLED_PROMFILE;
}
