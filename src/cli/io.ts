// What the CLI layer gets from the process, injected so commands can be
// tested in-process (only main.ts builds the real one), and the exit statuses it gives back.
import type { Command } from 'commander';

export interface CliIo {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdin: AsyncIterable<Uint8Array | string> & { readonly isTTY?: boolean };
  readonly stdout: { write(chunk: string): unknown; readonly isTTY?: boolean };
  readonly stderr: { write(chunk: string): unknown; readonly isTTY?: boolean };
  /** Milliseconds since the epoch. */
  now(): number;
  /** Effective uid, or undefined where there is none. */
  readonly uid: number | undefined;
  readonly pid: number;
  /**
   * Where the kernel shows processes (discovery reads node_exporter's command
   * line there); /proc when absent. Only in-process tests set it: the shipped
   * CLI takes it from no argument and no environment variable.
   */
  readonly procRoot?: string;
  /** Subscribe to a process signal; returns the unsubscribe function. */
  onSignal(signal: NodeJS.Signals, handler: () => void): () => void;
}

/** Exit statuses of promfile itself, documented in docs/exit-codes.md (`run` also exits with the job's). */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  internal: 70,
  /** `run --no-overlap` skipped the run (EX_TEMPFAIL: try again later). */
  skipped: 75,
} as const;

/** The exit status a command wants, set by its action. */
export interface CommandContext {
  exitCode: number;
  /** The warnings printed so far (for `--format json`). */
  warnings?: string[];
  /** The --format given, once Commander has read it (a failure under `json` is also reported on stdout). */
  format?: string;
  /** The command line as given (after `promfile`): where `--` stands, which Commander's parse does not keep. */
  args?: readonly string[];
}

/** Declares one command (its options, help and action) on the program. */
export type Register = (program: Command, io: CliIo, context: CommandContext) => void;

/** A module's commands by name, in the order help lists them. */
export type Registers = Readonly<Record<string, Register>>;
