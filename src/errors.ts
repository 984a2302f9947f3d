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

/** Messages quote user input (names, label values): keep them to one line by escaping control characters. */
function oneLine(message: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this escapes
  return message.replace(/[\u0000-\u001f\u007f]/g, (char) => JSON.stringify(char).slice(1, -1));
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
