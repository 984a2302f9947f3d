// The process boundary: the only module that reads argv, env and stdio, and
// the one place where errors become exit codes.
import { readFileSync } from 'node:fs';
import type * as Commander from 'commander';
import { createRequire } from 'node:module';
import type { Command } from 'commander';
import { InputError, IoError, PromfileError } from '../errors.js';
import type { CliIo, CommandContext } from './io.js';
import { withHint } from './hints.js';

// commander is CommonJS: require() skips the ESM loader's export analysis,
// 3 ms of every cold start. Command modules get it through `program`.
const { Command: CommandClass, CommanderError } = createRequire(import.meta.url)('commander') as typeof Commander;

type Register = (program: Command, io: CliIo, context: CommandContext) => void;

// Each command's module is loaded only when that command runs: `promfile set`
// in a cronjob should not pay for check, run or push (cold start is a goal).
const loadWrite = async (): Promise<Register> => (await import('./write-commands.js')).registerWriteCommands;
const loadRun = async (): Promise<Register> => (await import('./run-commands.js')).registerRunCommands;
const loadPush = async (): Promise<Register> => (await import('./push-commands.js')).registerPushCommands;
const loadInspect = async (): Promise<Register> => (await import('./inspect-commands.js')).registerInspectCommands;
const ALL_COMMANDS = [loadWrite, loadRun, loadInspect, loadPush];
const COMMAND_MODULES: Readonly<Record<string, () => Promise<Register>>> = {
  set: loadWrite,
  write: loadWrite,
  unset: loadWrite,
  rm: loadWrite,
  run: loadRun,
  inc: loadRun,
  check: loadInspect,
  ls: loadInspect,
  gc: loadInspect,
  push: loadPush,
};

/** Exit statuses, documented in README.md. */
export const EXIT = { ok: 0, failure: 1, usage: 2, internal: 70 } as const;

/** The program with the commands `args` can need: the one named, or all (for help and suggestions). */
export async function createProgram(io: CliIo, context: CommandContext, args: readonly string[] = []): Promise<Command> {
  const program = new CommandClass('promfile')
    .description("Write Prometheus metrics into node_exporter's textfile collector directory: validated and atomic.")
    .version(readVersion(), '-V, --version')
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
  const named = args[0] === undefined ? undefined : COMMAND_MODULES[args[0]];
  for (const load of named ? [named] : ALL_COMMANDS) (await load())(program, io, context);
  return program;
}

/** Map any error to its exit status, printing one line on stderr (with the CLI's hint for `command`). */
export function exitCodeFor(error: unknown, io: CliIo, command?: string): number {
  if (error instanceof CommanderError) {
    // Commander has printed its message already; help and version are successes.
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (error instanceof PromfileError) {
    io.stderr.write(`promfile: ${withHint(error, command)}\n`);
    if (error instanceof InputError) return EXIT.usage;
    if (error instanceof IoError) return EXIT.failure;
    return EXIT.failure;
  }
  const detail =
    io.env['PROMFILE_DEBUG'] && error instanceof Error
      ? (error.stack ?? error.message)
      : String(error instanceof Error ? error.message : error);
  io.stderr.write(`promfile: internal error: ${detail}\n`);
  return EXIT.internal;
}

export async function main(args: readonly string[], io: CliIo): Promise<number> {
  const warnings: string[] = [];
  const context: CommandContext = { exitCode: EXIT.ok, warnings };
  // Warnings still go to stderr; --format json also lists them in its report.
  const teeIo: CliIo = {
    ...io,
    stderr: {
      ...(io.stderr.isTTY === undefined ? {} : { isTTY: io.stderr.isTTY }),
      write: (text: string) => {
        if (text.startsWith('promfile: warning: ')) warnings.push(text.slice('promfile: warning: '.length).trimEnd());
        return io.stderr.write(text);
      },
    },
  };
  try {
    const program = await createProgram(teeIo, context, args);
    await program.parseAsync([...args], { from: 'user' });
    return context.exitCode;
  } catch (error) {
    return exitCodeFor(error, io, args[0]);
  }
}

function readVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * stdout or stderr, where a closed reader (`promfile ... | head`, `2>&1 | true`)
 * never stops the command: it goes on, writes and records what it would have,
 * and exits quietly with its status. Later writes to the closed stream are dropped.
 */
function tolerantOutput(stream: NodeJS.WriteStream): CliIo['stdout'] {
  let closed = false;
  // Any error of an output stream (EPIPE, EIO) means the reader is gone; there is nowhere to report it.
  stream.on('error', () => (closed = true));
  return {
    isTTY: stream.isTTY,
    write: (chunk: string) => !closed && stream.write(chunk),
  };
}

function processIo(): CliIo {
  return {
    argv: process.argv.slice(2),
    env: process.env,
    stdin: process.stdin,
    stdout: tolerantOutput(process.stdout),
    stderr: tolerantOutput(process.stderr),
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
