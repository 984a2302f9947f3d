// The process boundary: the only module that reads argv, env and stdio, and
// the one place where errors become exit codes.
import { readFileSync, writeSync } from 'node:fs';
import { Command as CommandClass, CommanderError, type Command } from 'commander';
import { errnoOf, InputError, printable, printableLines, PromfileError } from '../errors.js';
import { EXIT, type CliIo, type CommandContext, type Register, type Registers } from './io.js';
import { addExamples } from './examples.js';
import { withHint } from './hints.js';

// The version, inlined by the bundle step (scripts/bundle.mjs); unbundled, read from package.json.
declare const PROMFILE_VERSION: string | undefined;

// Each command's declaration is loaded only when that command runs, and only
// that command is declared: `promfile set` in a cronjob should not pay for
// check, run or push, nor for write's options (cold start is a goal).
const loadWrite = async (): Promise<Registers> => (await import('./write-commands.js')).WRITE_COMMANDS;
const loadRun = async (): Promise<Registers> => (await import('./run-commands.js')).RUN_COMMANDS;
const loadUnit = async (): Promise<Registers> => (await import('./unit-commands.js')).UNIT_COMMANDS;
const loadPush = async (): Promise<Registers> => (await import('./push-commands.js')).PUSH_COMMANDS;
const loadInspect = async (): Promise<Registers> => (await import('./inspect-commands.js')).INSPECT_COMMANDS;
const loadAlert = async (): Promise<Registers> => (await import('./alert-commands.js')).ALERT_COMMANDS;
const loadCompletion = async (): Promise<Registers> => (await import('./completion-commands.js')).COMPLETION_COMMANDS;
/** Every command's module, in the order help lists them. */
const ALL_MODULES = [loadWrite, loadRun, loadUnit, loadInspect, loadPush, loadAlert, loadCompletion];
const MODULE_OF: Readonly<Record<string, () => Promise<Registers>>> = {
  set: loadWrite,
  write: loadWrite,
  unset: loadWrite,
  rm: loadWrite,
  run: loadRun,
  inc: loadRun,
  unit: loadUnit,
  check: loadInspect,
  ls: loadInspect,
  gc: loadInspect,
  push: loadPush,
  observe: loadAlert,
  rules: loadAlert,
  completion: loadCompletion,
};

/** The register functions `args` needs: the named command's, else all (help, suggestions, completion). */
async function registersFor(args: readonly string[]): Promise<Register[]> {
  const name = args[0];
  // Own keys only: `promfile toString` is an unknown command, not Object.prototype's.
  const load = name !== undefined && Object.hasOwn(MODULE_OF, name) ? MODULE_OF[name] : undefined;
  // The completion script lists every command.
  if (load && name !== 'completion') return [(await load())[name as string] as Register];
  const modules = await Promise.all(ALL_MODULES.map((loadModule) => loadModule()));
  return modules.flatMap((registers) => Object.values(registers));
}

/** The program with the commands `args` can need: the one named, or all (for help and suggestions). */
export async function createProgram(io: CliIo, context: CommandContext, args: readonly string[] = []): Promise<Command> {
  const program = new CommandClass('promfile')
    .description("Write Prometheus metrics into node_exporter's textfile collector directory: validated and atomic.")
    .version(typeof PROMFILE_VERSION === 'string' ? PROMFILE_VERSION : readVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // Commander's own errors look like ours: `promfile: unknown option ...`, exit 2.
      outputError: (text, write) => write(`promfile: ${text.replace(/^error: /, '')}`),
    })
    .showHelpAfterError('(run "promfile help <command>" for usage)');
  program.allowExcessArguments(false);
  // Options after a command's arguments belong to it: `promfile run --job x ls -l`.
  program.enablePositionalOptions();
  for (const register of await registersFor(args)) register(program, io, context);
  addExamples(program);
  return program;
}

/** What a failure prints: its exit status, its stable code and its one line (none for Commander's, printed already). */
interface Failure {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly printed: boolean;
}

function failureOf(error: unknown, io: CliIo, command?: string): Failure {
  if (error instanceof CommanderError) {
    // Commander has printed its message already; help and version are successes.
    const status = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    return { status, code: 'ERR_USAGE', message: error.message.replace(/^error: /, ''), printed: true };
  }
  if (error instanceof PromfileError) {
    const status = error instanceof InputError ? EXIT.usage : EXIT.failure;
    return { status, code: error.code, message: withHint(error, command), printed: false };
  }
  const detail =
    io.env['PROMFILE_DEBUG'] && error instanceof Error
      ? (error.stack ?? error.message)
      : String(error instanceof Error ? error.message : error);
  return { status: EXIT.internal, code: 'ERR_INTERNAL', message: `internal error: ${detail}`, printed: false };
}

/** Map any error to its exit status, printing one line on stderr (with the CLI's hint for `command`). */
export function exitCodeFor(error: unknown, io: CliIo, command?: string): number {
  const failure = failureOf(error, io, command);
  if (!failure.printed) io.stderr.write(`promfile: ${failure.message}\n`);
  return failure.status;
}

/**
 * Under --format json a failure is also one object on stdout (the error's code and message, the
 * exit status, the warnings so far): configuration management parses stdout, and an empty one
 * failed its parser instead of the task.
 */
function failed(error: unknown, io: CliIo, context: CommandContext, command?: string): number {
  const failure = failureOf(error, io, command);
  if (!failure.printed) io.stderr.write(`promfile: ${failure.message}\n`);
  if (context.format === 'json' && failure.status !== EXIT.ok) {
    const report = {
      error: { code: failure.code, message: failure.message },
      exitStatus: failure.status,
      warnings: context.warnings ?? [],
    };
    io.stdout.write(`${printable(JSON.stringify(report))}\n`);
  }
  return failure.status;
}

/** Note `--format json` as Commander reads it (a valid value, before any later error), for `failed`. */
function noteFormat(program: Command, context: CommandContext): void {
  for (const command of program.commands) command.on('option:format', (value: unknown) => (context.format = String(value)));
}

export async function main(args: readonly string[], io: CliIo): Promise<number> {
  const warnings: string[] = [];
  const context: CommandContext = { exitCode: EXIT.ok, warnings, args };
  // Warnings still go to stderr; --format json also lists them in its report.
  const stderr: CliIo['stderr'] = {
    // A getter: asking whether stderr is a terminal creates its stream.
    get isTTY() {
      return io.stderr.isTTY === true;
    },
    // Every diagnostic line is printable: a name in it cannot act on root's terminal.
    write: (raw: string) => {
      const text = printableLines(raw);
      if (text.startsWith('promfile: warning: ')) warnings.push(text.slice('promfile: warning: '.length).trimEnd());
      return io.stderr.write(text);
    },
  };
  // io with that stderr, inheriting the rest: a spread ({ ...io }) would call every getter,
  // creating process.stdin's stream (a fifth of a bare start) for commands that never read it.
  const teeIo = Object.create(io, { stderr: { value: stderr, enumerable: true } }) as CliIo;
  try {
    const program = await createProgram(teeIo, context, args);
    noteFormat(program, context);
    await program.parseAsync([...args], { from: 'user' });
    return context.exitCode;
  } catch (error) {
    return failed(error, teeIo, context, args[0]);
  }
}

function readVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * stdout or stderr, written synchronously to its descriptor: creating process.stdout would load
 * Node's stream modules (and net, for a pipe), about a fifth of a bare start (bench/cold-start.js).
 * A closed reader (`promfile ... | head`, `2>&1 | true`) never stops the command: it goes on,
 * writes and records what it would have, and exits quietly with its status. Later writes to the
 * closed descriptor are dropped. A descriptor left non-blocking by whoever holds it (EAGAIN) is
 * handed to the stream from then on, which waits until it can write.
 */
function tolerantOutput(fd: 1 | 2, stream: () => NodeJS.WriteStream): CliIo['stdout'] {
  let closed = false;
  let fallback: NodeJS.WriteStream | undefined;
  return {
    get isTTY() {
      return stream().isTTY;
    },
    write(chunk: string) {
      if (closed) return false;
      if (fallback) return fallback.write(chunk);
      let rest = Buffer.from(chunk);
      try {
        while (rest.length > 0) rest = rest.subarray(writeSync(fd, rest));
        return true;
      } catch (error) {
        // Any error but EAGAIN (EPIPE, EIO) means the reader is gone; there is nowhere to report it.
        if (errnoOf(error) !== 'EAGAIN') {
          closed = true;
          return false;
        }
        // The same holds for an error of the stream.
        fallback = stream().on('error', () => (closed = true));
        return fallback.write(rest);
      }
    },
  };
}

function processIo(): CliIo {
  let stdout: CliIo['stdout'] | undefined;
  let stderr: CliIo['stderr'] | undefined;
  return {
    argv: process.argv.slice(2),
    env: process.env,
    // Getters: each stdio stream is created on first use, not at every start.
    get stdin() {
      return process.stdin;
    },
    get stdout() {
      return (stdout ??= tolerantOutput(1, () => process.stdout));
    },
    get stderr() {
      return (stderr ??= tolerantOutput(2, () => process.stderr));
    },
    now: () => Date.now(),
    uid: process.getuid?.(),
    pid: process.pid,
    onSignal(signal, handler) {
      process.on(signal, handler);
      return () => process.off(signal, handler);
    },
  };
}

/** Entry point of bin/promfile.js; returns the exit status. */
export async function runCli(): Promise<number> {
  const io = processIo();
  return main(io.argv, io);
}
