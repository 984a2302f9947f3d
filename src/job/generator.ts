// `promfile write -- COMMAND`: run a metrics generator in its own process
// group, capture its stdout, pass its stderr through, and report how it
// ended, so a failing generator never replaces a good file (a shell pipe
// hides the generator's exit status).
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { classifyExit, type ProcessExit } from './metrics.js';

export interface GeneratorOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** SIGTERM to the group after this many ms, then SIGKILL `killAfterMs` later. */
  readonly timeoutMs?: number;
  readonly killAfterMs?: number;
}

export interface GeneratorRun {
  /** The generator's stdout. */
  readonly stdout: Readable;
  /** How it ended: `status` as a shell reports it (124 timeout, 127 not found, 128+N signal). */
  readonly exit: Promise<ProcessExit & { readonly status: number }>;
  /** Pass a signal on to the generator's process group. */
  forward(signal: NodeJS.Signals): void;
}

/** Signal a whole process group; a group already gone is fine. */
function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: nothing left to signal.
  }
}

/** Start the generator: stdin and stderr are promfile's, stdout is captured. */
export function startGenerator(command: string, args: readonly string[], options: GeneratorOptions): GeneratorRun {
  const env = Object.fromEntries(Object.entries(options.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
  // detached: its own process group, so a timeout reaches the generator's children too.
  const child = spawn(command, args, { stdio: ['inherit', 'pipe', 'inherit'], env, detached: true });
  let timedOut = false;
  const timers: NodeJS.Timeout[] = [];
  if (options.timeoutMs !== undefined) {
    timers.push(
      setTimeout(() => {
        timedOut = true;
        signalGroup(child.pid, 'SIGTERM');
        timers.push(setTimeout(() => signalGroup(child.pid, 'SIGKILL'), options.killAfterMs ?? 10_000));
      }, options.timeoutMs),
    );
  }
  const exit = new Promise<ProcessExit & { status: number }>((resolve) => {
    let settled = false;
    const settle = (result: ProcessExit): void => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      // Its output is complete when it exits: what it left in its group could
      // hold the pipe open (a wait without end) or write into it later.
      if (result.spawnError === undefined) signalGroup(child.pid, 'SIGKILL');
      resolve({ ...result, status: classifyExit(result).status });
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (child.pid === undefined) settle({ code: null, signal: null, spawnError: error.code ?? 'EACCES', timedOut: false });
    });
    child.once('exit', (code, signal) => settle({ code, signal, timedOut }));
  });
  return { stdout: child.stdout, exit, forward: (signal) => signalGroup(child.pid, signal) };
}
