// `promfile unit`: a job as a systemd .service + .timer pair, the unit files
// written out as systemd reads them. The one delicate part is ExecStart=:
// systemd splits it into words (quotes, C escapes), then expands specifiers
// (`%n`) in each word, then, when it starts the service, environment variables
// (`$FOO`); so an argument reaches the job unchanged only quoted and with `%`
// and `$` doubled (systemd.service(5), "Command lines"; systemd.unit(5), "Specifiers").
import { lstat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { InputError, IoError } from '../errors.js';
import { writeFileAtomically } from '../textfile/files.js';
import { pinDirectory } from '../textfile/pin.js';

/** What the pair is made of. */
export interface TimerJobSpec {
  /** The units' name: NAME.service and NAME.timer. */
  readonly name: string;
  /** The timer's OnCalendar= expression (checked by the caller, e.g. with systemd-analyze). */
  readonly onCalendar: string;
  readonly randomizedDelayMs?: number;
  readonly accuracyMs?: number;
  readonly persistent?: boolean;
  /** The service's command line; the first word an absolute path. */
  readonly execStart: readonly string[];
}

/** One unit file: its name (`backup.service`) and its text. */
export interface UnitFile {
  readonly name: string;
  readonly text: string;
}

/** Where `systemctl enable` looks first: the administrator's units. */
export const DEFAULT_UNIT_DIR = '/etc/systemd/system';

/** A word systemd takes as it is: nothing its splitter, specifier or variable expansion acts on. */
const PLAIN_WORD = /^[A-Za-z0-9_@+=:,./-]+$/;

/** Whether `text` has a character that ends a unit file's line or that a C escape must carry: a C0 control or DEL. */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
const C_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\t': '\\t', '\r': '\\r' };

/** One argument as an ExecStart= word that systemd turns back into exactly `arg`. */
export function execWord(arg: string): string {
  if (arg.includes('\u0000')) throw new InputError('ERR_INVALID_ARGUMENT', 'a command-line argument cannot hold a NUL byte');
  if (PLAIN_WORD.test(arg)) return arg;
  let quoted = '';
  for (const char of arg) {
    if (char === '\\' || char === '"') quoted += `\\${char}`;
    else if (char === '%' || char === '$') quoted += char + char;
    else if (hasControl(char)) quoted += C_ESCAPES[char] ?? `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;
    else quoted += char;
  }
  return `"${quoted}"`;
}

/** A command line as the value of ExecStart=. */
export function execLine(argv: readonly string[]): string {
  const [path] = argv;
  // systemd refuses quotes and backslashes in the executable's path, and runs the path without expanding variables.
  if (path === undefined || !isAbsolute(path) || /["'\\$]/.test(path) || hasControl(path))
    throw new InputError(
      'ERR_INVALID_ARGUMENT',
      `ExecStart= needs an absolute path without quotes, backslashes or "$", not "${path ?? ''}"`,
    );
  return argv.map(execWord).join(' ');
}

/** systemd's timespan units, largest first, in microseconds. */
const TIMESPAN_UNITS: ReadonlyArray<readonly [string, number]> = [
  ['w', 604_800_000_000],
  ['d', 86_400_000_000],
  ['h', 3_600_000_000],
  ['min', 60_000_000],
  ['s', 1_000_000],
  ['ms', 1000],
  ['us', 1],
];

/** A duration in ms as systemd writes a timespan (`1h 30min`, `500ms`, `0`), to the microsecond. */
export function systemdTimespan(ms: number): string {
  let rest = Math.round(ms * 1000);
  if (!Number.isFinite(rest) || rest < 0) throw new InputError('ERR_INVALID_ARGUMENT', `not a timespan: ${ms} ms`);
  const parts: string[] = [];
  for (const [unit, size] of TIMESPAN_UNITS) {
    const count = Math.floor(rest / size);
    if (count > 0) parts.push(`${count}${unit}`);
    rest -= count * size;
  }
  return parts.length === 0 ? '0' : parts.join(' ');
}

/** A value for a unit file line in which systemd expands specifiers: one line, `%` doubled. */
function settingValue(text: string, what: string): string {
  if (hasControl(text)) throw new InputError('ERR_INVALID_ARGUMENT', `${what} "${text}" cannot hold a line break or control character`);
  return text.trim().replace(/%/g, '%%');
}

/** NAME.service (Type=oneshot, running `execStart`) and NAME.timer (starting it on the calendar). */
export function timerJobUnits(spec: TimerJobSpec): readonly [UnitFile, UnitFile] {
  const service = [
    '[Unit]',
    `Description=promfile job ${spec.name}`,
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${execLine(spec.execStart)}`,
    '',
  ];
  const timer = [
    '[Unit]',
    `Description=Start ${spec.name}.service on ${settingValue(spec.onCalendar, '--on-calendar')}`,
    '',
    '[Timer]',
    `OnCalendar=${settingValue(spec.onCalendar, '--on-calendar')}`,
    ...(spec.randomizedDelayMs === undefined ? [] : [`RandomizedDelaySec=${systemdTimespan(spec.randomizedDelayMs)}`]),
    ...(spec.accuracyMs === undefined ? [] : [`AccuracySec=${systemdTimespan(spec.accuracyMs)}`]),
    ...(spec.persistent === true ? ['Persistent=true'] : []),
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ];
  return [
    { name: `${spec.name}.service`, text: service.join('\n') },
    { name: `${spec.name}.timer`, text: timer.join('\n') },
  ];
}

/** The units one after another, each under a `# DIR/NAME` comment line (which a unit file may start with). */
export function unitsText(units: readonly UnitFile[], dir: string = DEFAULT_UNIT_DIR): string {
  return units.map((unit) => `# ${join(dir, unit.name)}\n${unit.text}`).join('\n');
}

/**
 * Write the units into `dir`, each atomically (a temp file, fsync, rename),
 * through the directory pinned as a textfile directory is (root writes here:
 * no link on the path can redirect it). Unless `force`, nothing is written
 * when any of them exists already.
 */
export async function writeUnitFiles(
  dir: string,
  units: readonly UnitFile[],
  options: { readonly force?: boolean } = {},
): Promise<string[]> {
  const pinned = await pinDirectory(dir, { what: 'unit directory' });
  try {
    if (options.force !== true) {
      const existing = [];
      for (const unit of units) if (await lstat(pinned.at(unit.name)).catch(() => undefined)) existing.push(join(dir, unit.name));
      if (existing.length > 0)
        throw new IoError(
          'ERR_CONFLICT',
          `${existing.join(' and ')} already ${existing.length > 1 ? 'exist' : 'exists'}; nothing was written`,
        );
    }
    for (const unit of units) await writeFileAtomically(pinned.at(unit.name), unit.text, { mode: 0o644 });
    return units.map((unit) => join(dir, unit.name));
  } catch (error) {
    throw pinned.relabel(error);
  } finally {
    await pinned.close();
  }
}
