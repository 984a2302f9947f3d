// Library errors speak the library's terms; this table adds what to type on
// the command line, by error code (and, where the fix differs, by command).
import type { ErrorCode, PromfileError } from '../errors.js';
import { ExpositionError } from '../errors.js';

interface Hint {
  readonly code: ErrorCode;
  /** Only for an exposition error of this rule. */
  readonly rule?: string;
  /** Only for a message that says this (one rule covers several cases). */
  readonly says?: RegExp;
  /** Only for these commands; all when absent. */
  readonly commands?: readonly string[];
  readonly hint: string;
}

const ESCAPE_NAMES = '--escape-names underscores|dots|values rewrites quoted names as legacy names';

const HINTS: readonly Hint[] = [
  { code: 'ERR_DIR_MISSING', commands: ['unit'], hint: 'create it, or give another with --write=DIR' },
  { code: 'ERR_DIR_MISSING', hint: 'create it, pass --mkdir, or choose another with --dir or PROMFILE_DIR' },
  { code: 'ERR_CONFLICT', commands: ['set'], hint: '--replace rewrites the whole file' },
  { code: 'ERR_CONFLICT', commands: ['inc'], hint: 'inc adds to counters only; remove the other series with "promfile unset --family"' },
  { code: 'ERR_INVALID_FILE', commands: ['set'], hint: 'fix it, or rewrite it with --replace or "promfile write"' },
  { code: 'ERR_INVALID_FILE', hint: 'fix it, or rewrite it with "promfile write"' },
  { code: 'ERR_EMPTY_INPUT', commands: ['write'], hint: 'pass --allow-empty to write an empty file' },
  { code: 'ERR_INVALID_EXPOSITION', rule: 'timestamp', commands: ['write'], hint: '--strip-timestamps drops them' },
  { code: 'ERR_INVALID_EXPOSITION', rule: 'quoted-name', commands: ['write'], hint: ESCAPE_NAMES },
  { code: 'ERR_INVALID_EXPOSITION', rule: 'crash', says: /\bquoted (metric|label) name\b/, commands: ['write'], hint: ESCAPE_NAMES },
  { code: 'ERR_INVALID_EXPOSITION', rule: 'openmetrics', commands: ['write'], hint: '--from openmetrics converts it' },
  {
    code: 'ERR_INVALID_EXPOSITION',
    rule: 'syntax',
    says: /unknown metric type "(info|stateset)"/,
    commands: ['write'],
    hint: 'it is OpenMetrics: --from openmetrics converts it',
  },
  {
    code: 'ERR_INVALID_EXPOSITION',
    rule: 'syntax',
    says: /OpenMetrics exemplars/,
    commands: ['write'],
    hint: '--from openmetrics drops them',
  },
  { code: 'ERR_MACHINE_LABEL', hint: '--allow-instance pushes anyway' },
  { code: 'ERR_DIRECTORY_CONFLICT', hint: '--no-dir-check writes anyway' },
  { code: 'ERR_CONFLICT', commands: ['unit'], hint: '--force replaces them' },
  { code: 'ERR_SYSTEMD_UNAVAILABLE', commands: ['unit'], hint: "systemd-analyze comes with Debian's systemd package" },
  {
    code: 'ERR_SYSTEMD_UNAVAILABLE',
    hint: "systemd-analyze and systemctl come with Debian's systemd package; --timer also needs systemd running as PID 1, which containers and chroots often lack",
  },
];

/** The message with the hint for this command, if the table has one. */
export function withHint(error: PromfileError, command: string | undefined): string {
  const rule = error instanceof ExpositionError ? error.problem.rule : undefined;
  const match = HINTS.find(
    (hint) =>
      hint.code === error.code &&
      (hint.rule === undefined || hint.rule === rule) &&
      (hint.says === undefined || hint.says.test(error.message)) &&
      (hint.commands === undefined || (command !== undefined && hint.commands.includes(command))),
  );
  return match ? `${error.message} (${match.hint})` : error.message;
}
