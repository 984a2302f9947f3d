import type { Problem } from './format/types.js';

/** Stable error codes; the CLI maps them to exit codes in one place. */
export type ErrorCode =
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_INVALID_EXPOSITION'
  | 'ERR_INVALID_FILE_NAME'
  | 'ERR_EMPTY_INPUT'
  | 'ERR_INVALID_FILE'
  | 'ERR_CONFLICT'
  | 'ERR_DIRECTORY_CONFLICT'
  | 'ERR_DIR_MISSING'
  | 'ERR_UNSAFE_TARGET'
  | 'ERR_READ_FAILED'
  | 'ERR_WRITE_FAILED'
  | 'ERR_LOCK_TIMEOUT'
  | 'ERR_LOCK_BUSY'
  | 'ERR_LOCK_FAILED'
  | 'ERR_UNTRUSTED_DIR'
  | 'ERR_AMBIGUOUS_DIR'
  | 'ERR_DEFAULT_METRICS'
  | 'ERR_MACHINE_LABEL'
  | 'ERR_NETWORK'
  | 'ERR_PUSH_REJECTED'
  | 'ERR_TIMEOUT'
  | 'ERR_SYSTEMD_UNAVAILABLE';

/** Base class of every error promfile throws on purpose. */
export class PromfileError extends Error {
  override name = 'PromfileError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(oneLine(message), options);
    this.code = code;
  }
}

/** Messages quote user input (names, label values): keep them to one line and inert on a terminal. */
function oneLine(message: string): string {
  return printable(message);
}

/**
 * What a terminal would act on or not show: C0 controls, DEL, C1 controls, line and paragraph
 * separators, format characters (bidi overrides, zero-width) and lone surrogates.
 */
const NON_PRINTING = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;
const SHORT: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Text from names, files and label values made safe to print: every non-printing character becomes
 * its `\uXXXX` escape (a pair of them above U+FFFF), exactly as JSON writes it, so a name cannot hide
 * text, set the title or erase lines, and serialized JSON stays valid with the same value. The one
 * escaping function for everything promfile prints.
 */
export function printable(text: string): string {
  return text.replace(NON_PRINTING, (char) => {
    const short = SHORT[char];
    if (short !== undefined) return short;
    let escaped = '';
    for (let i = 0; i < char.length; i++) escaped += `\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`;
    return escaped;
  });
}

/** Text of several lines (diagnostics, indented JSON), each line made printable. */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}

/** How many items a message lists before "and N more". */
export const LISTED_ITEMS = 5;

/** Items for a message: printable, at most LISTED_ITEMS of them, then "and N more". */
export function listed(items: readonly string[], max = LISTED_ITEMS): string {
  const shown = items.slice(0, max).map(printable).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

/** The input (arguments, exposition text, names) breaks a rule. */
export class InputError extends PromfileError {
  override name = 'InputError';
}

/** Exposition text breaks a rule at a known line. */
export class ExpositionError extends InputError {
  override name = 'ExpositionError';
  readonly problem: Problem;

  constructor(problem: Problem, source?: string, code: 'ERR_INVALID_EXPOSITION' | 'ERR_INVALID_FILE' = 'ERR_INVALID_EXPOSITION') {
    const where = problem.line === undefined ? '' : `line ${problem.line}: `;
    super(code, `${source ? `${source}: ` : ''}${where}${problem.message}`);
    this.problem = problem;
  }

  /** The 1-based line of the input that breaks the rule, when the problem has one (`problem.line`). */
  get line(): number | undefined {
    return this.problem.line;
  }
}

/** Reading, writing or locking the filesystem failed. */
export class IoError extends PromfileError {
  override name = 'IoError';
}

/** The `code` of a Node error: a system error's errno (ENOENT, EACCES, ...) or Node's own (ERR_STRING_TOO_LONG), if it has one. */
export function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** The message of anything thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
