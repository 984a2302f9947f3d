// promfile ls and gc on a temp directory with backdated mtimes.
import { chmod, mkdir, readdir, symlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { promfile, tempDir } from '../helpers/cli.js';
import { holdLock } from '../helpers/locks.js';

const DAY = 86_400;
const FRESH = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1"} 1\na_total{x="2"} 2\n# HELP b B.\n# TYPE b gauge\nb 3\n';
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function backdate(path: string, seconds: number): Promise<void> {
  const when = Date.now() / 1000 - seconds;
  await utimes(path, when, when);
}

/** A textfile directory as a few months of cron jobs leave it. */
async function messyDirectory(): Promise<{ dir: string; outside: string }> {
  const { dir: root, cleanup } = await tempDir('promfile-ls-gc-');
  cleanups.push(cleanup);
  const dir = join(root, 'textfiles');
  const outside = join(root, 'outside');
  await mkdir(dir);
  await mkdir(outside);
  await writeFile(join(dir, 'fresh.prom'), FRESH);
  await writeFile(join(dir, 'old.prom'), '# HELP old_metric Old.\n# TYPE old_metric gauge\nold_metric 1\n');
  await backdate(join(dir, 'old.prom'), 10 * DAY);
  await writeFile(join(dir, 'broken.prom'), '# HELP t T.\n# TYPE t gauge\nt 1 1700000000000\n');
  await chmod(join(dir, 'broken.prom'), 0o640);
  // Temp files: two left by dead writers, one being written right now.
  await writeFile(join(dir, 'a.prom.123'), 'x 1\n');
  await backdate(join(dir, 'a.prom.123'), 120);
  await writeFile(join(dir, 'b.prom.tmp'), 'y 1\n');
  await backdate(join(dir, 'b.prom.tmp'), 120);
  await writeFile(join(dir, 'c.prom.456'), 'z 1\n');
  // Left by the other common writers: Python's write_to_textfile (NAME.prom.<pid>.<thread>),
  // Go's WriteToTextfile (NAME.prom<random digits>), and NAME.prom.tmp<anything>.
  for (const name of ['py.prom.4242.140230811535168', 'go.prom1827364512', 'sh.prom.tmpXYZ']) {
    await writeFile(join(dir, name), 'w 1\n');
    await backdate(join(dir, name), 120);
  }
  // Locks, both old: one nobody holds (with a pid an old version wrote), one held by a live process.
  await writeFile(join(dir, '.old.prom.lock'), `99999999 ${hostname()} 00aa11bb\n`);
  await backdate(join(dir, '.old.prom.lock'), 3600);
  await writeFile(join(dir, '.fresh.prom.lock'), '');
  await backdate(join(dir, '.fresh.prom.lock'), 3600);
  const holder = await holdLock(join(dir, '.fresh.prom.lock'));
  cleanups.unshift(() => holder.release());
  // A link to an old file elsewhere is configuration: gc leaves it.
  await writeFile(join(outside, 'target.prom'), 'linked 1\n');
  await backdate(join(outside, 'target.prom'), 30 * DAY);
  await symlink(join(outside, 'target.prom'), join(dir, 'link.prom'));
  await writeFile(join(dir, 'notes.txt'), 'not ours\n');
  await backdate(join(dir, 'notes.txt'), 30 * DAY);
  return { dir, outside };
}

const ALL = [
  '.fresh.prom.lock',
  '.old.prom.lock',
  'a.prom.123',
  'b.prom.tmp',
  'broken.prom',
  'c.prom.456',
  'fresh.prom',
  'go.prom1827364512',
  'link.prom',
  'notes.txt',
  'old.prom',
  'py.prom.4242.140230811535168',
  'sh.prom.tmpXYZ',
];
/** The temp files of dead writers, in node_exporter's (byte) order. */
const DEAD_TEMPS = ['a.prom.123', 'b.prom.tmp', 'go.prom1827364512', 'py.prom.4242.140230811535168', 'sh.prom.tmpXYZ'];

async function names(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

describe('gc', () => {
  it('--dry-run lists stale files, dead temp files and unheld locks, and deletes nothing', async () => {
    const { dir } = await messyDirectory();
    const result = promfile(['gc', '--dir', dir, '--older-than', '7d', '--dry-run']);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(
      ['.old.prom.lock', ...DEAD_TEMPS, 'old.prom']
        .sort()
        .map((name) => `${join(dir, name)}\n`)
        .join(''),
    );
    expect(result.stderr).toBe('promfile: dry run: would delete 7 files\n');
    expect(await names(dir)).toEqual(ALL);
  });

  it('deletes them, and check then finds no leftovers', async () => {
    const { dir } = await messyDirectory();
    const result = promfile(['gc', '--dir', dir, '--older-than', '7d']);
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(
      ['.old.prom.lock', ...DEAD_TEMPS, 'old.prom']
        .sort()
        .map((name) => `${join(dir, name)}\n`)
        .join(''),
    );
    expect(await names(dir)).toEqual(['.fresh.prom.lock', 'broken.prom', 'c.prom.456', 'fresh.prom', 'link.prom', 'notes.txt']);
    const checked = JSON.parse(promfile(['check', '--dir', dir, '--format', 'json']).stdout) as { findings: Array<{ rule: string }> };
    expect(checked.findings.filter((f) => ['temp-leftover', 'stale-lock'].includes(f.rule))).toEqual([]);
    // A second run has nothing left to do.
    expect(promfile(['gc', '--dir', dir, '--older-than', '7d']).stdout).toBe('');
  });

  it('without --older-than removes only temp and lock leftovers', async () => {
    const { dir } = await messyDirectory();
    const result = promfile(['gc', '--dir', dir]);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(['.old.prom.lock', ...DEAD_TEMPS].map((name) => `${join(dir, name)}\n`).join(''));
    expect(await names(dir)).toContain('old.prom');
  });

  it('leaves a stale file alone while a live writer holds its lock', async () => {
    const { dir } = await messyDirectory();
    const writer = await holdLock(join(dir, '.old.prom.lock'));
    cleanups.unshift(() => writer.release());
    const result = promfile(['gc', '--dir', dir, '--older-than', '7d']);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(DEAD_TEMPS.map((name) => `${join(dir, name)}\n`).join(''));
    expect(await names(dir)).toEqual(expect.arrayContaining(['old.prom', '.old.prom.lock']));
  });

  it('refuses a bad duration and a missing directory', async () => {
    const { dir } = await messyDirectory();
    const bad = promfile(['gc', '--dir', dir, '--older-than', 'a week']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^promfile: --older-than "a week" is not a duration/);
    const missing = promfile(['gc', '--dir', join(dir, 'nope')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^promfile: textfile directory .*nope does not exist/);
  });
});

describe('ls', () => {
  it('shows each .prom file with series, families, age, size, owner, mode and status', async () => {
    const { dir, outside } = await messyDirectory();
    const result = promfile(['ls', '--dir', dir]);
    expect(result.status).toBe(0);
    expect(result.stderr).toBe(`promfile: 5 leftover temp files in ${dir} ("promfile gc" removes them)\n`);
    const rows = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => line.split(/\s{2,}/));
    expect(rows[0]).toEqual(['FILE', 'SERIES', 'FAMILIES', 'AGE', 'SIZE', 'OWNER', 'MODE', 'STATUS']);
    const byName = new Map(rows.slice(1).map((cells) => [cells[0], cells]));
    expect([...byName.keys()]).toEqual(['broken.prom', 'fresh.prom', 'link.prom', 'old.prom']);
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    expect(byName.get('fresh.prom')).toEqual([
      'fresh.prom',
      '3',
      '2',
      expect.stringMatching(/^\d+s$/),
      String(Buffer.byteLength(FRESH)),
      `${uid}:${gid}`,
      '0644',
      'ok',
    ]);
    expect(byName.get('old.prom')?.[3]).toBe('10d');
    expect(byName.get('broken.prom')?.slice(6)).toEqual(['0640', 'invalid (line 3: timestamp)']);
    expect(byName.get('link.prom')?.slice(3)).toEqual(['30d', '9', `${uid}:${gid}`, '0644', `ok -> ${join(outside, 'target.prom')}`]);
  });

  it('--format json', async () => {
    const { dir } = await messyDirectory();
    const result = promfile(['ls', '--dir', dir, '--format', 'json']);
    expect(result.status).toBe(0);
    const listing = JSON.parse(result.stdout) as { directory: string; files: Array<Record<string, unknown>> };
    expect(listing.directory).toBe(dir);
    expect(listing.files.map((file) => file['name'])).toEqual(['broken.prom', 'fresh.prom', 'link.prom', 'old.prom']);
    expect(listing.files[1]).toMatchObject({
      path: join(dir, 'fresh.prom'),
      series: 3,
      families: 2,
      size: Buffer.byteLength(FRESH),
      mode: '0644',
      status: 'ok',
    });
    expect(listing.files[3]?.['ageMs']).toBeGreaterThan(10 * DAY * 1000 - 60_000);
    expect(listing.files[0]).toMatchObject({ status: 'invalid', problem: 'line 3: timestamp' });
  });
});

describe('gc and the lock files promfile itself leaves', () => {
  it("removes an old unheld run lock and an old version's takeover guard, keeping a live run's lock (held, whatever its age)", async () => {
    const { dir, cleanup } = await tempDir('promfile-gc-locks-');
    const live = await holdLock(join(dir, '.live.prom.run.lock'));
    try {
      const old = new Date(Date.now() - 3_600_000);
      await writeFile(join(dir, '.dead.prom.run.lock'), `4194999 ${hostname()} x\n`);
      await writeFile(join(dir, '.g.prom.lock.takeover'), '');
      for (const name of ['.dead.prom.run.lock', '.g.prom.lock.takeover', '.live.prom.run.lock']) await utimes(join(dir, name), old, old);
      const result = promfile(['gc', '--dir', dir]);
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout.trim().split('\n').sort()).toEqual([join(dir, '.dead.prom.run.lock'), join(dir, '.g.prom.lock.takeover')]);
      expect(await readdir(dir)).toEqual(['.live.prom.run.lock']);
    } finally {
      await live.release();
      await cleanup();
    }
  });
});
