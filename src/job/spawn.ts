// The one way promfile runs a child: `run`'s job and `write -- COMMAND`'s
// generator. The child leads its own process group (and session), so the
// timeout and the signals promfile passes on reach everything it started; the
// timeout may be of any length; and the end is decided by the child's exit,
// never by its stdout pipe, which a process outside the group (a `setsid`
// child, a daemon it started) can hold open for ever.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import { errnoOf } from '../errors.js';
import { classifyExit, type ProcessExit } from './metrics.js';

/**
 * How long captured stdout may stay open once the child has exited; then
 * reading stops. What the child wrote before it exited is in the pipe
 * already and is read in far less: only a process outside its group keeping
 * the pipe open (a daemon it started) ever waits this long.
 */
export const DRAIN_AFTER_EXIT_MS = 2_000;

/** SIGKILL this long after the timeout's SIGTERM, unless the caller says otherwise. */
export const DEFAULT_KILL_AFTER_MS = 10_000;

export interface ChildOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** SIGTERM to the group after this many ms (any length), then SIGKILL `killAfterMs` later. */
  readonly timeoutMs?: number;
  readonly killAfterMs?: number;
  /** Capture the child's stdout (`Child.stdout`) instead of giving it promfile's. */
  readonly captureStdout?: boolean;
  /** A descriptor the child inherits as its fd 3 (run's --no-overlap lock). */
  readonly extraFd?: number;
}

export interface ChildExit extends ProcessExit {
  /** As a shell reports it: 124 timeout, 126/127 not run, 128+N signal N. */
  readonly status: number;
  /** Captured stdout was still open DRAIN_AFTER_EXIT_MS after the child exited, so reading stopped there. */
  readonly outputHeld: boolean;
}

export interface Child {
  /** The captured stdout: it ends at EOF, at the timeout, or DRAIN_AFTER_EXIT_MS after the exit. Empty unless captured. */
  readonly stdout: Readable;
  /** Settles once the child has exited and its captured stdout has ended. */
  readonly exit: Promise<ChildExit>;
  /** Pass a signal on to the child's group (ignored once it has exited). */
  forward(signal: NodeJS.Signals): void;
}

/** Longest delay setTimeout takes (2^31-1 ms, about 24.8 days); longer ones are re-armed. */
const MAX_TIMER_MS = 2_147_483_647;

interface Timer {
  cancel(): void;
}

/** setTimeout for any delay: Node fires a longer one at once, with a TimeoutOverflowWarning. */
function after(ms: number, fn: () => void): Timer {
  let timer: NodeJS.Timeout;
  const arm = (remaining: number): void => {
    timer = setTimeout(() => (remaining > MAX_TIMER_MS ? arm(remaining - MAX_TIMER_MS) : fn()), Math.min(remaining, MAX_TIMER_MS));
  };
  arm(ms);
  return { cancel: () => clearTimeout(timer) };
}

/** Signal every process of the group led by `pid`; a group already gone is fine. */
function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: nothing left of the group.
  }
}

interface Capture {
  readonly stream: Readable;
  /** Stop reading: the stream ends with what was read. True when it had not ended by itself. */
  stop(): boolean;
  /** Settles when the source has closed (at EOF, or stopped). */
  readonly closed: Promise<void>;
}

/**
 * The child's stdout behind a stream of our own, so that reading can stop
 * without the reader seeing an error: the reader gets what came so far and
 * an end; the child's side is closed (a late writer gets EPIPE).
 */
function capture(source: Readable | null): Capture {
  const stream = new PassThrough();
  if (source === null) {
    stream.end();
    return { stream, stop: () => false, closed: Promise.resolve() };
  }
  let ended = false;
  let stopped = false;
  const closed = new Promise<void>((resolve) =>
    source.once('close', () => {
      ended = true;
      // A source that failed instead of ending must still end the reader.
      if (!stream.writableEnded && !stream.destroyed) stream.end();
      resolve();
    }),
  );
  source.pipe(stream);
  return {
    stream,
    closed,
    stop: () => {
      if (ended || stopped) return false;
      stopped = true;
      source.unpipe(stream);
      source.destroy();
      return true;
    },
  };
}

function stdioOf(options: ChildOptions): StdioOptions {
  const stdout = options.captureStdout ? 'pipe' : 'inherit';
  return options.extraFd === undefined ? ['inherit', stdout, 'inherit'] : ['inherit', stdout, 'inherit', options.extraFd];
}

/** A command that could not even be started (Node refused its arguments: a NUL byte, say). */
function notStarted(error: unknown): Child {
  const exit: ProcessExit = { code: null, signal: null, spawnError: errnoOf(error) ?? 'EINVAL', timedOut: false };
  return {
    stdout: capture(null).stream,
    exit: Promise.resolve({ ...exit, status: classifyExit(exit).status, outputHeld: false }),
    forward: () => undefined,
  };
}

/**
 * Start a command as the leader of its own process group (Node's `detached`:
 * its own session, no controlling terminal), with promfile's stdin and stderr.
 * A timeout and forwarded signals go to the whole group; once the child has
 * exited after either, what is left of its group is killed (SIGKILL). With a
 * captured stdout that is so after any exit, as its output is complete then
 * and what it left in its group could hold the pipe or write into it later;
 * otherwise (run) processes it left in the background after a plain exit are
 * left alone (and keep run's lock).
 */
export function startChild(command: string, args: readonly string[], options: ChildOptions): Child {
  let child: ChildProcess;
  try {
    const env = Object.fromEntries(Object.entries(options.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
    child = spawn(command, args, { stdio: stdioOf(options), env, detached: true });
  } catch (error) {
    return notStarted(error);
  }
  const output = capture(child.stdout);
  let exited = false;
  let timedOut = false;
  let signalled = false;
  const timers: Timer[] = [];
  const exit = new Promise<ChildExit>((resolve) => {
    const settle = (result: ProcessExit): void => {
      if (exited) return;
      exited = true;
      for (const timer of timers) timer.cancel();
      if (result.spawnError === undefined && (timedOut || signalled || options.captureStdout)) killGroup(child.pid, 'SIGKILL');
      // The exit decides; the pipe gets a bounded drain (none when the child never ran).
      let outputHeld = false;
      const drain = after(result.spawnError === undefined ? DRAIN_AFTER_EXIT_MS : 0, () => (outputHeld = output.stop()));
      void output.closed.then(() => {
        drain.cancel();
        resolve({ ...result, status: classifyExit(result).status, outputHeld });
      });
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      // Only a failed spawn ends the child here; a failed kill() of a live child is harmless.
      if (child.pid === undefined) settle({ code: null, signal: null, spawnError: error.code ?? 'EACCES', timedOut: false });
    });
    child.once('exit', (code, signal) => settle({ code, signal, timedOut }));
  });
  if (options.timeoutMs !== undefined) {
    const killAfterMs = options.killAfterMs ?? DEFAULT_KILL_AFTER_MS;
    timers.push(
      after(options.timeoutMs, () => {
        // At the deadline the output is of no use: stop reading now, whoever holds the pipe.
        timedOut = true;
        output.stop();
        killGroup(child.pid, 'SIGTERM');
        timers.push(after(killAfterMs, () => killGroup(child.pid, 'SIGKILL')));
      }),
    );
  }
  return {
    stdout: output.stream,
    exit,
    forward: (signal) => {
      if (exited || child.pid === undefined) return;
      signalled = true;
      killGroup(child.pid, signal);
    },
  };
}
