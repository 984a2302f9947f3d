// The findings of the lock and trust review (issue 14), each replayed against
// the real CLI. Races are widened deterministically: PROMFILE_TEST_PAUSE=<point>
// makes promfile stop itself (SIGSTOP) at that point, the test acts, then
// resumes it (SIGCONT) or kills it. Every test asserts no lost update and no
// wedge (every process ends within a bound).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition } from '../../src/format/parse.js';
import { isLockHeld } from '../../src/textfile/lock.js';
import { BIN, promfile, ROOT, tempDir, type CliResult } from '../helpers/cli.js';
import { holdLock, waitStopped } from '../helpers/locks.js';

const isRoot = process.getuid?.() === 0;
/** Installs the pause points named by PROMFILE_TEST_PAUSE in the CLI's process (the shipped CLI reads no such variable). */
const PAUSE_PRELOAD = join(ROOT, 'test', 'helpers', 'pause-preload.mjs');
/** Every process here must end within this; a hang is a failure, not a stuck suite. */
const BOUND_MS = 60_000;

interface Started {
  readonly child: ChildProcess;
  readonly result: Promise<CliResult>;
  resume(): void;
  kill(): void;
}

/** Start promfile; with `pause`, wait until it has stopped itself there. */
async function start(args: string[], pause?: string, env: Record<string, string> = {}): Promise<Started> {
  const child = spawn(process.execPath, [...(pause ? ['--import', pathToFileURL(PAUSE_PRELOAD).href] : []), BIN, ...args], {
    env: { ...process.env, PROMFILE_DIR: '', ...(pause ? { PROMFILE_TEST_PAUSE: pause } : {}), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const result = new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`promfile ${args.join(' ')} did not end within ${BOUND_MS} ms (wedged)`));
    }, BOUND_MS);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
  if (pause) await waitStopped(child.pid as number);
  return { child, result, resume: () => child.kill('SIGCONT'), kill: () => child.kill('SIGKILL') };
}

function counter(path: string, name = 'events_total'): number | undefined {
  if (!existsSync(path)) return undefined;
  return parseExposition(readFileSync(path), { source: path })
    .find((family) => family.name === name)
    ?.samples.find((sample) => Object.keys(sample.labels).length === 0)?.value;
}

const inc = (dir: string, extra: string[] = []): string[] => [
  'inc',
  '--dir',
  dir,
  '-f',
  'x',
  '--lock-timeout',
  '15s',
  ...extra,
  'events_total',
];

/** Whether a process whose command line matches `pattern` is running. */
function alive(pattern: string): boolean {
  return spawnSync('pgrep', ['-f', `^${pattern}$`]).status === 0;
}

describe('locks the kernel releases', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let cases = 0;
  const fresh = (): string => {
    const dir = join(root, `case-${++cases}`);
    mkdirSync(dir);
    return dir;
  };
  beforeAll(async () => ({ dir: root, cleanup } = await tempDir('promfile-locks-')));
  afterAll(() => cleanup());

  it('finding 1: gc that judged a lock unheld does not delete it once a writer holds it; no update is lost', async () => {
    const dir = fresh();
    const lock = join(dir, '.x.prom.lock');
    writeFileSync(lock, '4194999 oldhost 00\n'); // left by an old version: unheld, an hour old
    utimesSync(lock, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    const gc = await start(['gc', '--dir', dir], 'gc-judged'); // judged it garbage, then stalled
    const a = await start(inc(dir), 'locked'); // takes that very file
    gc.resume();
    const swept = await gc.result;
    expect(swept.status, swept.stderr).toBe(0);
    expect(swept.stdout).toBe(''); // it kept the held lock
    expect(await isLockHeld(lock)).toBe(true);
    const b = await start(inc(dir));
    await sleep(400);
    expect(b.child.exitCode).toBeNull(); // B waits for A: the lock still excludes
    a.resume();
    const [ra, rb] = await Promise.all([a.result, b.result]);
    expect([ra.status, rb.status], ra.stderr + rb.stderr).toEqual([0, 0]);
    expect(counter(join(dir, 'x.prom'))).toBe(2);
  });

  it('finding 2: a waiter stalled on a lock file that gc then removed locks the new file, not the ghost; no update is lost', async () => {
    const dir = fresh();
    const lock = join(dir, '.x.prom.lock');
    const a = await start(inc(dir), 'locked');
    const b = await start(inc(dir), 'lock-opened'); // opened the lock file, then stalled (for as long as we like)
    a.resume();
    expect((await a.result).status).toBe(0);
    utimesSync(lock, new Date(0), new Date(0));
    const swept = promfile(['gc', '--dir', dir]); // nobody holds it now: gc takes it and removes it
    expect(swept.stdout).toBe(`${lock}\n`);
    const c = await start(inc(dir), 'locked'); // C creates and holds a new lock file
    b.resume(); // B locks the removed file, sees the name leads elsewhere, and waits for C's
    await sleep(400);
    expect(b.child.exitCode).toBeNull();
    c.resume();
    const [rb, rc] = await Promise.all([b.result, c.result]);
    expect([rb.status, rc.status], rb.stderr + rc.stderr).toEqual([0, 0]);
    expect(counter(join(dir, 'x.prom'))).toBe(3);
  });

  const canUnshare = isRoot && spawnSync('unshare', ['--pid', '--fork', 'true']).status === 0;
  it.skipIf(!canUnshare)('finding 3: a lock held from another PID namespace is respected', async () => {
    const dir = fresh();
    writeFileSync(join(dir, 'x.prom'), '# HELP events_total Events.\n# TYPE events_total counter\nevents_total 5\n');
    const lock = join(dir, '.x.prom.lock');
    writeFileSync(lock, '');
    utimesSync(lock, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000)); // old, no pid: once "garbage"
    const holder = await holdLock(lock, ['unshare', '--pid', '--fork', '--kill-child']);
    try {
      const blocked = promfile(inc(dir, ['--lock-timeout', '1s']));
      expect(blocked.status).toBe(1);
      expect(blocked.stderr).toMatch(/timed out after 1000 ms waiting for lock/);
      expect(counter(join(dir, 'x.prom'))).toBe(5);
    } finally {
      await holder.release();
    }
    expect(promfile(inc(dir)).status).toBe(0);
    expect(counter(join(dir, 'x.prom'))).toBe(6);
  });

  it('finding 4: a lock file naming a live pid (pid reuse) blocks neither run --no-overlap nor writers, and gc tidies it', async () => {
    const dir = fresh();
    const text = `1 ${hostname()} 0123abcd\n`; // pid 1 is always alive
    writeFileSync(join(dir, '.t.prom.run.lock'), text);
    writeFileSync(join(dir, '.t.prom.lock'), text);
    const run = promfile(['run', '--dir', dir, '--job', 't', '--no-overlap', '--', 'true']);
    expect(run.status, run.stderr).toBe(0);
    const file = readFileSync(join(dir, 't.prom'), 'utf8');
    expect(file).toMatch(/^promfile_job_running\{job_name="t"\} 0$/m);
    expect(file).not.toMatch(/^promfile_job_skipped_total\{[^}]*\} [1-9]/m);
    for (const name of ['.t.prom.run.lock', '.t.prom.lock']) {
      if (existsSync(join(dir, name))) utimesSync(join(dir, name), new Date(0), new Date(0));
    }
    expect(promfile(['gc', '--dir', dir]).status).toBe(0);
    expect(readdirSync(dir)).toEqual(['t.prom']);
  });

  it('finding 5: after kill -9 of promfile, the orphaned job keeps the run lock; the next run is skipped until the job ends', async () => {
    const dir = fresh();
    const marker = join(dir, 'started');
    const first = await start(['run', '--dir', dir, '--job', 't', '--no-overlap', '--', 'sh', '-c', `: > '${marker}'; sleep 6`]);
    for (let i = 0; i < 200 && !existsSync(marker); i++) await sleep(20);
    expect(existsSync(marker)).toBe(true);
    first.kill();
    // Not first.result: that waits for the job too, which shares promfile's stdout.
    await new Promise((resolve) =>
      first.child.exitCode === null && first.child.signalCode === null ? first.child.once('exit', resolve) : resolve(null),
    );
    const second = promfile(['run', '--dir', dir, '--job', 't', '--no-overlap', '--', 'true']);
    expect(second.status, second.stderr).toBe(75);
    expect(second.stderr).toMatch(/still running, this run is skipped/);
    for (let i = 0; i < 400 && (await isLockHeld(join(dir, '.t.prom.run.lock'))); i++) await sleep(25);
    const third = promfile(['run', '--dir', dir, '--job', 't', '--no-overlap', '--', 'true']);
    expect(third.status, third.stderr).toBe(0);
  });

  it('issue 9 item 5: --timeout kills the whole process group; the next --no-overlap run is not started beside a survivor', async () => {
    const dir = fresh();
    const sleeper = 'sleep 41.0713';
    const timed = promfile(['run', '--dir', dir, '--job', 't', '--no-overlap', '--timeout', '1s', '--', 'sh', '-c', `${sleeper}; true`]);
    expect(timed.status).toBe(124);
    await sleep(100);
    expect(alive(sleeper)).toBe(false);
    const next = promfile(['run', '--dir', dir, '--job', 't', '--no-overlap', '--', 'true']);
    expect(next.status, next.stderr).toBe(0);
  });

  it('a forwarded SIGTERM reaches the whole group; a background process left by a clean exit keeps the lock (documented)', async () => {
    const dir = fresh();
    const sleeper = 'sleep 42.0713';
    const running = await start(['run', '--dir', dir, '--job', 't', '--no-overlap', '--', 'sh', '-c', `${sleeper}; true`]);
    for (let i = 0; i < 200 && !alive(sleeper); i++) await sleep(20);
    running.child.kill('SIGTERM');
    expect((await running.result).status).toBe(143);
    await sleep(100);
    expect(alive(sleeper)).toBe(false);
    // A clean exit leaves its background child alone, and that child still holds the run lock.
    const leaver = promfile(['run', '--dir', dir, '--job', 't', '--no-overlap', '--', 'sh', '-c', 'sleep 4 >/dev/null 2>&1 & exit 0']);
    expect(leaver.status).toBe(0);
    expect(promfile(['run', '--dir', dir, '--job', 't', '--no-overlap', '--', 'true']).status).toBe(75);
  });

  it('finding 6: a FIFO, a device or a /dev/zero link at a lock name fails fast; check, gc and ls never block on a FIFO', () => {
    const dir = fresh();
    spawnSync('mkfifo', [join(dir, '.f.prom.lock')]);
    symlinkSync('/dev/zero', join(dir, '.z.prom.lock'));
    spawnSync('mknod', [join(dir, '.d.prom.lock'), 'c', '1', '5']); // /dev/zero's numbers
    spawnSync('mkfifo', [join(dir, 'y.prom')]);
    for (const [name, what] of [
      ['f', 'a FIFO'],
      ['z', 'a symbolic link'],
      ['d', 'a character device'],
    ] as const) {
      const started = Date.now();
      const result = promfile(['set', '--dir', dir, '-f', name, '--lock-timeout', '1s', 'm', '1']);
      expect(result.status, name).toBe(1);
      expect(result.stderr).toContain(`lock ${join(dir, `.${name}.prom.lock`)} is ${what}`);
      expect(Date.now() - started).toBeLessThan(5000);
    }
    for (const command of [['check'], ['ls'], ['gc'], ['check', '-f', 'y']]) {
      const result = spawnSync(process.execPath, [BIN, ...command, '--dir', dir], { encoding: 'utf8', timeout: BOUND_MS });
      expect(result.signal, `${command.join(' ')} hung`).toBeNull();
    }
    const listed = promfile(['ls', '--dir', dir, '--format', 'json']);
    expect(JSON.parse(listed.stdout)).toMatchObject({ files: [{ name: 'y.prom', status: 'not-a-file', problem: 'a FIFO' }] });
    const checked = promfile(['check', '--dir', dir]);
    expect(checked.stdout).toContain(`${join(dir, 'y.prom')}: error: not a regular file`);
    expect(checked.stdout).toContain(`${join(dir, '.f.prom.lock')}: warning: a FIFO at a lock name`);
    // A FIFO at the target itself is refused, not opened for reading.
    const onFifo = promfile(['set', '--dir', dir, '-f', 'y', '--lock-timeout', '1s', 'm', '1']);
    expect(onFifo.status).toBe(1);
    expect(onFifo.stderr).toContain('is a FIFO, not a regular file');
    // A FIFO among the other textfiles holds up no write of another file (the directory check skips it, as check reports it).
    const writes = [
      { args: ['set', '--dir', dir, '-f', 'beside', 'm', '1'] },
      { args: ['inc', '--dir', dir, '-f', 'beside', 'm_total'] },
      { args: ['write', '--dir', dir, '-f', 'written'], input: 'w 1\n' },
    ];
    for (const { args, input } of writes) {
      const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 20_000, input: input ?? '' });
      expect(result.signal, `${args[0]} hung on a FIFO beside its target`).toBeNull();
      expect(result.status, result.stderr).toBe(0);
    }
  });

  it('finding 7: a directory at the lock name, or a lock file the caller cannot open, fails at once instead of spinning', () => {
    const dir = fresh();
    mkdirSync(join(dir, '.x.prom.lock'));
    const started = Date.now();
    const result = spawnSync(process.execPath, [BIN, ...inc(dir, ['--lock-timeout', '10s'])], { encoding: 'utf8', timeout: BOUND_MS });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/lock .*\.x\.prom\.lock is a directory/);
    expect(Date.now() - started).toBeLessThan(5000);
    if (isRoot) {
      // Another user's 0600 lock: nobody cannot open it.
      const shared = fresh();
      chmodSync(root, 0o711);
      chmodSync(shared, 0o777);
      writeFileSync(join(shared, '.y.prom.lock'), '', { mode: 0o600 });
      const asNobody = spawnSync(
        'setpriv',
        [
          '--reuid=65534',
          '--regid=65534',
          '--clear-groups',
          process.execPath,
          BIN,
          'inc',
          '--dir',
          shared,
          '-f',
          'y',
          '--lock-timeout',
          '10s',
          'n_total',
        ],
        { encoding: 'utf8', timeout: BOUND_MS },
      );
      expect(asNobody.status, asNobody.stderr).toBe(1);
      expect(asNobody.stderr).toMatch(/lock .*\.y\.prom\.lock cannot be opened: permission denied/);
    }
  });

  it('mixed writers, 50 rounds in 5 lanes: a writer stopped holding the lock, gc, another writer; the stopped one resumed or killed', async () => {
    const dir = fresh();
    const old = new Date(0);
    const lane = async (name: string, rounds: number): Promise<void> => {
      // One counter per lane: the same series in two files would be a duplicate the directory check refuses.
      const args = ['inc', '--dir', dir, '-f', name, '--lock-timeout', '30s', `events_${name}_total`];
      let expected = 0;
      for (let round = 0; round < rounds; round++) {
        const holder = await start(args, 'locked');
        // Old enough for gc to consider: gc must find it held and keep it (other lanes' unheld ones it may remove).
        utimesSync(join(dir, `.${name}.prom.lock`), old, old);
        const waiter = start(args);
        const gc = await start(['gc', '--dir', dir]);
        const swept = await gc.result; // gc never waits for a lock
        expect(swept.status, swept.stderr).toBe(0);
        expect(swept.stdout).not.toContain(`.${name}.prom.lock`);
        if (round % 3 === 2) holder.kill();
        else holder.resume();
        const [rh, rw] = await Promise.all([holder.result, (await waiter).result]);
        expect(rw.status, rw.stderr).toBe(0);
        expected += 1 + (rh.status === 0 ? 1 : 0);
        expect(counter(join(dir, `${name}.prom`), `events_${name}_total`), `${name} round ${round}`).toBe(expected);
      }
    };
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((name) => lane(name, 10)));
    expect(
      readdirSync(dir)
        .filter((name) => name.endsWith('.prom'))
        .sort(),
    ).toEqual(['a.prom', 'b.prom', 'c.prom', 'd.prom', 'e.prom']);
  }, 180_000);
});

describe.skipIf(!isRoot)('the directory cannot be swapped under root', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let lib: string;
  let textfiles: string;
  let elsewhere: string;
  beforeAll(async () => {
    ({ dir: root, cleanup } = await tempDir('promfile-pin-'));
    chmodSync(root, 0o755);
    // Debian's layout: /var/lib/prometheus belongs to the exporter's account, node-exporter to root.
    lib = join(root, 'prometheus');
    textfiles = join(lib, 'node-exporter');
    elsewhere = join(root, 'root-only');
    mkdirSync(textfiles, { recursive: true });
    mkdirSync(elsewhere, { mode: 0o700 });
    chownSync(lib, 65534, 65534);
  });
  afterAll(() => cleanup());

  it("finding 9, reversed: Debian's layout works as root without a flag; --trust-parent is a no-op with a notice", () => {
    const written = promfile(['set', '--dir', textfiles, '-f', 'apt', 'apt_upgrades_pending', '1']);
    expect(written).toMatchObject({ status: 0, stderr: '' });
    const flagged = promfile(['set', '--dir', textfiles, '-f', 'apt', '--trust-parent', 'apt_upgrades_pending', '2']);
    expect(flagged.status).toBe(0);
    expect(flagged.stderr).toMatch(/^promfile: notice: --trust-parent is no longer needed and does nothing/);
    expect(readdirSync(textfiles).sort()).toEqual(['.apt.prom.lock', 'apt.prom']);
    expect(readFileSync(join(textfiles, 'apt.prom'), 'utf8')).toMatch(/^apt_upgrades_pending 2$/m);
  });

  it("a link swapped in by the parent's owner between runs is refused, naming it; nothing reaches the link's target", () => {
    const moved = swap();
    try {
      for (const args of [
        ['set', '--dir', textfiles, '-f', 'backup', 'backup_ok', '1'],
        ['set', '--dir', textfiles, '-f', 'backup', '--dry-run', 'backup_ok', '1'],
        ['rm', '--dir', textfiles, '-f', 'apt'],
      ]) {
        const refused = promfile(args);
        expect(refused.status, args.join(' ')).toBe(1);
        expect(refused.stderr).toBe(
          `promfile: ${textfiles} is a symbolic link: promfile reaches the textfile directory without following links, so that nobody can redirect it; give the real path of ${textfiles}\n`,
        );
      }
      expect(readdirSync(elsewhere).filter((name) => name !== 'apt.prom')).toEqual([]);
    } finally {
      unswap(moved);
    }
  });

  /** Rename the pinned directory away and put a symlink to `elsewhere` in its place. */
  function swap(): string {
    const moved = `${textfiles}.moved`;
    renameSync(textfiles, moved);
    symlinkSync(elsewhere, textfiles);
    return moved;
  }
  function unswap(moved: string): void {
    spawnSync('rm', [textfiles]);
    renameSync(moved, textfiles);
  }

  it('finding 9: a swap after the check redirects neither a write nor an rm', async () => {
    writeFileSync(join(elsewhere, 'apt.prom'), 'root_only_secret 1\n');
    const writer = await start(['set', '--dir', textfiles, '-f', 'apt', 'apt_upgrades_pending', '7'], 'dir-checked');
    const moved = swap();
    writer.resume();
    try {
      expect((await writer.result).status).toBe(0);
      expect(readFileSync(join(elsewhere, 'apt.prom'), 'utf8')).toBe('root_only_secret 1\n');
      expect(readdirSync(elsewhere)).toEqual(['apt.prom']);
      expect(readFileSync(join(moved, 'apt.prom'), 'utf8')).toMatch(/^apt_upgrades_pending 7$/m);
    } finally {
      unswap(moved);
    }
    const remover = await start(['rm', '--dir', textfiles, '-f', 'apt'], 'dir-checked');
    const movedAgain = swap();
    remover.resume();
    try {
      expect((await remover.result).status).toBe(0);
      expect(readdirSync(elsewhere)).toEqual(['apt.prom']); // untouched
      expect(readdirSync(movedAgain)).toEqual([]); // the pinned directory's file (and its lock) went
    } finally {
      unswap(movedAgain);
    }
  });
});
