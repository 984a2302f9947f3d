// Locks held by other processes, and processes paused at a test point.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Hold an exclusive flock(2) on `path` from another process (a shell opens it,
 * flock(1) locks that descriptor, sleep keeps it) until release() or its death.
 * `wrap` runs it under another command, e.g. ['unshare', '--pid', '--fork'].
 */
export async function holdLock(path: string, wrap: string[] = []): Promise<{ process: ChildProcess; release(): Promise<void> }> {
  const script = `exec 9>>'${path}'; flock -x 9 || exit 9; echo held; exec sleep 120`;
  const argv = [...wrap, 'sh', '-c', script];
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise((resolve, reject) => {
    child.stdout.once('data', resolve);
    child.once('exit', (code) => reject(new Error(`lock holder exited ${code}`)));
  });
  return {
    process: child,
    async release() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Wait (bounded) until the process is stopped at its pause point (state T in /proc/PID/stat). */
export async function waitStopped(pid: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let state: string | undefined;
    try {
      state = /\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1];
    } catch {
      throw new Error(`process ${pid} ended before reaching its pause point`);
    }
    if (state === 'T') return;
    if (Date.now() > deadline) throw new Error(`process ${pid} did not reach its pause point within ${timeoutMs} ms (state ${state})`);
    await sleep(10);
  }
}
