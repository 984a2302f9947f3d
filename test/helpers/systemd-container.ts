// A real systemd as PID 1: the Debian 12 root .ci/fetch-bookworm-root.sh builds,
// booted with systemd-nspawn (read-only, under a tmpfs overlay, so the cached root
// stays clean; its own network namespace, so its node_exporter's :9100 is its own).
// Commands run inside through nsenter into the container's init. Under CI=true a
// missing tool or root is a failure, not a skip (as test/helpers/binaries.ts does).
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { requireBinary } from './binaries.js';

const NSPAWN = requireBinary('systemd-nspawn');
const NSENTER = requireBinary('nsenter');

/** How long a boot may take until `systemctl is-system-running` answers running or degraded. */
const BOOT_MS = 90_000;
/** How long `systemctl poweroff` may take before systemd-nspawn is killed. */
const POWEROFF_MS = 20_000;

/** The cached root: $PROMFILE_TEST_SYSTEMD_ROOT, else where .ci/fetch-bookworm-root.sh puts it. */
function findRoot(): string | undefined {
  const cache = process.env['PROMFILE_CI_CACHE'] ?? join(homedir(), '.cache', 'promfile-ci');
  const root = process.env['PROMFILE_TEST_SYSTEMD_ROOT'] ?? join(cache, 'bookworm-root');
  const found = existsSync(join(root, '.promfile-root')) && process.getuid?.() === 0 ? root : undefined;
  if (process.env['CI'] === 'true' && !found)
    throw new Error(`no booted systemd for the tests: need root and the root ${root} (run .ci/fetch-bookworm-root.sh; see .ci/run)`);
  return found;
}

/** The root to boot, when it and the tools are there and we are root (undefined: skip). */
export const SYSTEMD_ROOT: string | undefined = NSPAWN && NSENTER ? findRoot() : undefined;

export interface Container {
  /** The container's init (systemd) as the host sees it. */
  readonly pid: number;
  /** A path inside the container, as the host reaches it (/proc/PID/root/...). */
  path(inside: string): string;
  /** Run a shell script inside (bash -e -o pipefail), bounded; its result, whatever the status. */
  sh(script: string, timeoutMs?: number): SpawnSyncReturns<string>;
  /** Run a shell script inside; its stdout, or throw with its output unless it exits 0. */
  ok(script: string, timeoutMs?: number): string;
  /** What systemd-nspawn printed (the boot console), for failure messages. */
  console(): string;
  stop(): Promise<void>;
}

interface ProcInfo {
  readonly ppid: number;
  readonly nspids: number[];
}

function procInfo(pid: number): ProcInfo | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const ppid = Number(/^PPid:\s*(\d+)/m.exec(status)?.[1]);
    const nspids = (/^NSpid:\s*(.*)$/m.exec(status)?.[1] ?? '').split(/\s+/).map(Number);
    return { ppid, nspids };
  } catch {
    return undefined;
  }
}

/** The process under `ancestor` that is PID 1 of a PID namespace of its own: the container's init. */
function findInit(ancestor: number): number | undefined {
  const table = new Map<number, ProcInfo>();
  for (const name of readdirSync('/proc')) {
    const info = /^\d+$/.test(name) ? procInfo(Number(name)) : undefined;
    if (info) table.set(Number(name), info);
  }
  for (const [pid, info] of table) {
    if (info.nspids.length < 2 || info.nspids[info.nspids.length - 1] !== 1) continue;
    for (let up = info.ppid, hops = 0; up > 1 && hops < 10; up = table.get(up)?.ppid ?? 0, hops++) if (up === ancestor) return pid;
  }
  return undefined;
}

function runInside(pid: number, script: string, timeoutMs: number): SpawnSyncReturns<string> {
  const env = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'LANG=C.UTF-8', 'HOME=/root'];
  return spawnSync(
    NSENTER as string,
    ['-t', String(pid), '-a', '--', 'env', '-i', ...env, 'bash', '--noprofile', '--norc', '-e', '-o', 'pipefail', '-c', script],
    { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', cwd: '/' },
  );
}

async function waitFor<T>(what: string, ms: number, probe: () => T | undefined, log: () => string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} within ${ms / 1000}s; console:\n${log().slice(-4000)}`);
    await sleep(250);
  }
}

/** Boot the cached root with systemd as PID 1 and wait (bounded) until it is up. */
export async function bootContainer(root: string): Promise<Container> {
  const machine = `promfile-test-${process.pid}-${Date.now() % 100_000}`;
  const args = ['-q', '-D', root, '--volatile=overlay', '-b', '--register=no', '--keep-unit', '--private-network'];
  const nspawn: ChildProcess = spawn(NSPAWN as string, [...args, `--machine=${machine}`, '--console=read-only'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-64_000);
  };
  nspawn.stdout?.on('data', keep);
  nspawn.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => nspawn.once('exit', () => resolve()));
  const log = (): string => output;
  const kill = (): void => {
    if (nspawn.exitCode === null) nspawn.kill('SIGKILL');
  };
  try {
    const nspawnPid = nspawn.pid as number;
    const pid = await waitFor('systemd-nspawn started no init', 30_000, () => (nspawn.exitCode === null ? findInit(nspawnPid) : -1), log);
    if (pid < 0) throw new Error(`systemd-nspawn exited (${nspawn.exitCode}):\n${log()}`);
    await waitFor(
      'systemd did not reach running or degraded',
      BOOT_MS,
      () => {
        const state = runInside(pid, 'systemctl is-system-running || true', 10_000).stdout.trim();
        return state === 'running' || state === 'degraded' ? state : undefined;
      },
      log,
    );
    const container: Container = {
      pid,
      path: (inside) => join(`/proc/${pid}/root`, inside),
      sh: (script, timeoutMs = 30_000) => runInside(pid, script, timeoutMs),
      ok: (script, timeoutMs) => {
        const result = container.sh(script, timeoutMs);
        if (result.status !== 0)
          throw new Error(`in the container, exit ${result.status ?? result.signal}: ${script}\n${result.stdout}\n${result.stderr}`);
        return result.stdout;
      },
      console: log,
      stop: async () => {
        runInside(pid, 'systemctl poweroff --no-block', 10_000);
        await Promise.race([exited, sleep(POWEROFF_MS)]);
        kill();
        await Promise.race([exited, sleep(5000)]);
      },
    };
    return container;
  } catch (error) {
    kill();
    throw error;
  }
}
