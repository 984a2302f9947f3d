// `write -- COMMAND` (issue 20 item 4): the generator's exit decides, not its
// stdout pipe. A process outside its group (a `setsid` child, a daemon it
// starts) may hold that pipe open for ever; --timeout, SIGTERM/SIGINT/SIGHUP
// and the end of the generator must still end promfile within a bound.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, NODE, ROOT, tempDir, type CliResult } from '../helpers/cli.js';

/** Every promfile here must end within this; a hang is a failure, not a stuck suite. */
const BOUND_MS = 15_000;
const OLD = '# TYPE m gauge\nm 0\n';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => {
  // The setsid sleepers are outside promfile's reach by design: end them by the pid they wrote.
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.endsWith('.pid')) continue;
    const pid = Number(await readFile(join(dir, name), 'utf8'));
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  await cleanup();
});

interface Started {
  readonly result: Promise<CliResult & { ms: number }>;
  signal(signal: NodeJS.Signals): void;
}

/** Start promfile; it is SIGKILLed (status null) if it outlives BOUND_MS. */
function start(args: string[]): Started {
  const began = Date.now();
  const child = spawn(NODE, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const bound = setTimeout(() => child.kill('SIGKILL'), BOUND_MS);
  const result = new Promise<CliResult & { ms: number }>((resolve) =>
    // 'exit', not 'close': a leaked sleeper could hold promfile's stderr too.
    child.on('exit', (status, signal) => {
      clearTimeout(bound);
      const ms = Date.now() - began;
      void Promise.race([once(child, 'close'), sleep(500)]).then(() => resolve({ status, signal, stdout, stderr, ms }));
    }),
  );
  return { result, signal: (signal) => child.kill(signal) };
}

async function waitForFile(path: string): Promise<void> {
  for (let i = 0; i < 200 && !existsSync(path); i++) await sleep(25);
  if (!existsSync(path)) throw new Error(`${path} never appeared`);
}

/**
 * A generator that leaves a setsid sleeper holding its stdout, prints a
 * sample, then runs `rest`. It waits until the sleeper has left its group
 * (setsid execs sleep only after setsid()), so that no group kill can race it.
 */
const holder = (name: string, rest: string): string =>
  [
    `echo $$ > ${join(dir, `${name}.group.pid`)}`,
    `setsid sleep 313 & p=$!`,
    `echo $p > ${join(dir, `${name}.pid`)}`,
    `until [ "$(cat /proc/$p/comm 2>/dev/null)" = sleep ]; do sleep 0.01; done`,
    `echo "m 1"`,
    `touch ${join(dir, `${name}.ready`)}`,
    rest,
  ].join('; ');

async function expectKept(path: string): Promise<void> {
  expect(await readFile(path, 'utf8')).toBe(OLD);
  expect((await readdir(dir)).filter((name) => name.includes('.tmp'))).toEqual([]);
}

describe('write -- COMMAND: the generator is run by the one spawner', () => {
  it('--timeout longer than setTimeout can hold (30d) does not time out at once', async () => {
    const path = join(dir, 'long.prom');
    await writeFile(path, OLD);
    const { status, stderr } = await start(['write', '--dir', dir, '-f', 'long', '--timeout', '30d', '--', 'sh', '-c', 'echo "m 2"'])
      .result;
    expect(stderr).not.toMatch(/TimeoutOverflowWarning/);
    expect(status).toBe(0);
    expect(await readFile(path, 'utf8')).toBe('# TYPE m untyped\nm 2\n');
  });

  it('--timeout ends the run when a setsid child still holds the output: exit 124, the old file kept', async () => {
    const path = join(dir, 'held.prom');
    await writeFile(path, OLD);
    const run = start(['write', '--dir', dir, '-f', 'held', '--timeout', '1s', '--', 'sh', '-c', holder('held', 'exec sleep 314')]);
    const { status, stderr, ms } = await run.result;
    expect(status, stderr).toBe(124);
    expect(stderr).toMatch(/timed out after 1s/);
    expect(ms).toBeLessThan(BOUND_MS);
    await expectKept(path);
  });

  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)(
    '%s to promfile ends the run when a setsid child holds the output: 128+N, the old file kept',
    async (signal) => {
      const path = join(dir, 'signalled.prom');
      await writeFile(path, OLD);
      const run = start(['write', '--dir', dir, '-f', 'signalled', '--', 'sh', '-c', holder('signalled', 'exec sleep 315')]);
      await waitForFile(join(dir, 'signalled.ready'));
      run.signal(signal);
      const { status, stderr } = await run.result;
      expect(status, stderr).toBe(128 + { SIGTERM: 15, SIGINT: 2, SIGHUP: 1 }[signal]);
      expect(stderr).toMatch(new RegExp(`was killed by ${signal}`));
      await expectKept(path);
    },
  );

  it('a generator that exits while a setsid child holds its stdout: written after a bounded wait, and said so', async () => {
    const path = join(dir, 'daemon.prom');
    await writeFile(path, OLD);
    const { status, stderr, ms } = await start(['write', '--dir', dir, '-f', 'daemon', '--', 'sh', '-c', holder('daemon', 'exit 0')])
      .result;
    expect(status, stderr).toBe(0);
    expect(stderr).toMatch(/^promfile: warning: sh exited, but .* still held its stdout open; stopped reading after 2s\n$/);
    expect(ms).toBeLessThan(BOUND_MS);
    expect(await readFile(path, 'utf8')).toBe('# TYPE m untyped\nm 1\n');
  });
});
