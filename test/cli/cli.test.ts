// End-to-end: the built CLI (bin/promfile.js) writing into a directory that
// the real node_exporter reads.
import { chmod, lstat, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition } from '../../src/format/parse.js';
import { NODE_EXPORTER, PROMTOOL } from '../helpers/binaries.js';
import { promfile, promfileAsync, tempDir } from '../helpers/cli.js';
import { holdLock } from '../helpers/locks.js';

/** The directory's entries but lock files, which stay between writes (empty, harmless). */
async function visibleFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => !name.endsWith('.lock')).sort();
}
import { readFixture } from '../helpers/fixtures.js';
import { promtoolCheck, samplesOf, scrapeError, useNodeExporter, type NodeExporter } from '../helpers/node-exporter.js';

let root: string;
let cleanup: () => Promise<void>;
let counter = 0;

/** A fresh directory per test, under one temp root. */
async function freshDir(): Promise<string> {
  const dir = join(root, `case-${++counter}`);
  await mkdir(dir);
  return dir;
}

beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir());
});
afterAll(async () => cleanup?.());

describe('set', () => {
  it('creates the file with HELP and TYPE, mode 0644, and leaves no temp file (the empty lock file stays)', async () => {
    const dir = await freshDir();
    const result = promfile(['set', '--dir', dir, '-f', 'backup', 'backup_files_total', '12', 'backup_size_bytes=1.5e9']);
    expect(result).toMatchObject({ status: 0, stdout: '', stderr: '' });
    expect(await readFile(join(dir, 'backup.prom'), 'utf8')).toBe(
      [
        '# HELP backup_files_total Written by promfile.',
        '# TYPE backup_files_total counter',
        'backup_files_total 12',
        '# HELP backup_size_bytes Written by promfile.',
        '# TYPE backup_size_bytes gauge',
        'backup_size_bytes 1500000000',
        '',
      ].join('\n'),
    );
    expect((await stat(join(dir, 'backup.prom'))).mode & 0o777).toBe(0o644);
    expect(await visibleFiles(dir)).toEqual(['backup.prom']);
  });

  it('merges into the file, keeping every other family of every type with its HELP and TYPE', async () => {
    const dir = await freshDir();
    const original = readFixture('valid', 'histogram.prom').toString() + readFixture('valid', 'summary.prom').toString();
    await writeFile(join(dir, 'app.prom'), original);
    expect(promfile(['set', '--dir', dir, '-f', 'app', 'app_up', '1']).status).toBe(0);
    const after = parseExposition(await readFile(join(dir, 'app.prom')));
    const before = parseExposition(original);
    expect(after.filter((f) => f.name !== 'app_up')).toEqual(before);
    expect(after.find((f) => f.name === 'app_up')?.samples).toEqual([{ name: 'app_up', labels: {}, value: 1 }]);
  });

  it('updates a series in place, adds labels with -l, sets HELP, and reads "now"', async () => {
    const dir = await freshDir();
    expect(promfile(['set', '--dir', dir, '-f', 'apt', 'apt_upgrades_pending{origin="security"}', '3']).status).toBe(0);
    const before = Date.now() / 1000;
    const result = promfile([
      'set',
      '--dir',
      dir,
      '-f',
      'apt',
      'apt_upgrades_pending=5',
      'apt_last_check_timestamp_seconds=now',
      '-l',
      'origin=security',
      '--help-text',
      'Pending upgrades',
    ]);
    const after = Date.now() / 1000;
    expect(result.status).toBe(0);
    const families = parseExposition(await readFile(join(dir, 'apt.prom')));
    expect(families.find((f) => f.name === 'apt_upgrades_pending')).toEqual({
      name: 'apt_upgrades_pending',
      help: 'Pending upgrades',
      type: 'gauge',
      samples: [{ name: 'apt_upgrades_pending', labels: { origin: 'security' }, value: 5 }],
    });
    const now = families.find((f) => f.name === 'apt_last_check_timestamp_seconds')?.samples[0]?.value ?? 0;
    expect(now).toBeGreaterThanOrEqual(Math.floor(before * 1000) / 1000);
    expect(now).toBeLessThanOrEqual(after);
  });

  it('--replace rewrites the whole file', async () => {
    const dir = await freshDir();
    promfile(['set', '--dir', dir, '-f', 'x', 'old_metric', '1']);
    expect(promfile(['set', '--dir', dir, '-f', 'x', '--replace', 'new_metric', '2']).status).toBe(0);
    expect(parseExposition(await readFile(join(dir, 'x.prom'))).map((f) => f.name)).toEqual(['new_metric']);
  });

  it('--dry-run prints the resulting file on stdout and writes nothing', async () => {
    const dir = await freshDir();
    const result = promfile(['set', '--dir', dir, '-f', 'x', '--dry-run', 'm', '1']);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('# HELP m Written by promfile.\n# TYPE m gauge\nm 1\n');
    expect(await readdir(dir)).toEqual([]);
  });

  it('--file-path writes an explicit .prom path; --mkdir creates a missing directory', async () => {
    const dir = join(await freshDir(), 'sub', 'dir');
    expect(promfile(['set', '--file-path', join(dir, 'p.prom'), 'm', '1']).status).toBe(1);
    expect(promfile(['set', '--mkdir', '--file-path', join(dir, 'p.prom'), 'm', '1']).status).toBe(0);
    expect(await readFile(join(dir, 'p.prom'), 'utf8')).toContain('\nm 1\n');
  });

  it('takes the directory from PROMFILE_DIR', async () => {
    const dir = await freshDir();
    expect(promfile(['set', '-f', 'env', 'm', '1'], { env: { PROMFILE_DIR: dir } }).status).toBe(0);
    expect(await visibleFiles(dir)).toEqual(['env.prom']);
  });

  it('--mode sets the mode written', async () => {
    const dir = await freshDir();
    expect(promfile(['set', '--dir', dir, '-f', 'm', '--mode', '0640', 'm', '1']).status).toBe(0);
    expect((await stat(join(dir, 'm.prom'))).mode & 0o777).toBe(0o640);
  });

  it.skipIf(process.getuid?.() !== 0)('--owner gives the file to another user (as root)', async () => {
    const dir = await freshDir();
    expect(promfile(['set', '--dir', dir, '-f', 'o', '--owner', '65534:65534', 'm', '1']).status).toBe(0);
    const info = await stat(join(dir, 'o.prom'));
    expect([info.uid, info.gid]).toEqual([65534, 65534]);
  });
});

describe('bad input: one line on stderr, exit 2 (1 for I/O), nothing lost', () => {
  const existing = '# HELP keep Existing.\n# TYPE keep counter\nkeep 7\n';

  it.each([
    [['x_total', '-1'], /^promfile: "x_total": x_total: a counter cannot be negative/],
    [['m', '0x10'], /"m" \(value of m\): "0x10" is hexadecimal/],
    [['m', '1,5'], /decimal comma/],
    [['m', ''], /"m" \(value of m\): empty value/],
    [['m'], /"m": "m" has no value/],
    [['m{a="b"', '1'], /"m\{a=\\"b\\"": unexpected end of line after the value of label "a"/],
    [['m{__x="1"}', '1'], /"m\{__x=\\"1\\"\}": label name "__x" is reserved/],
    [['1m', '1'], /"1m": "1m" does not start with a metric name/],
    [['keep', '1', '--type', 'gauge'], /"keep" is a counter in the file, not a gauge/],
    [['m', '1', '-l', 'bad-name=1'], /-l "bad-name=1": invalid label name/],
    [['m{a="1"}', '1', '-l', 'a=2'], /label "a" is given both/],
    [['m', '1', '--mode', '999'], /--mode "999"/],
  ])('set %j', async (args, message) => {
    const dir = await freshDir();
    await writeFile(join(dir, 'f.prom'), existing);
    const result = promfile(['set', '--dir', dir, '-f', 'f', ...args]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toBe('');
    expect(await readFile(join(dir, 'f.prom'), 'utf8')).toBe(existing);
    expect(await visibleFiles(dir)).toEqual(['f.prom']);
  });

  it.each([['../x'], ['/etc/x'], ['.hidden'], ['a/b'], ['']])('refuses the file name %j', async (name) => {
    const dir = await freshDir();
    const result = promfile(['set', '--dir', dir, '-f', name, 'm', '1']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/file name .* is not allowed/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses --file-path that does not end in .prom', async () => {
    const result = promfile(['set', '--file-path', join(root, 'x.txt'), 'm', '1']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/must end in \.prom/);
  });

  it('a missing directory is exit 1 and says how to fix it', () => {
    const result = promfile(['set', '--dir', join(root, 'does-not-exist'), '-f', 'x', 'm', '1']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^promfile: textfile directory .*does-not-exist does not exist \(create it, pass --mkdir/);
  });

  it('an invalid existing file is not merged into (exit 2, file untouched)', async () => {
    const dir = await freshDir();
    const broken = 'broken_metric 1 1700000000000\n';
    await writeFile(join(dir, 'b.prom'), broken);
    const result = promfile(['set', '--dir', dir, '-f', 'b', 'm', '1']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/b\.prom: line 1: sample has a timestamp.*the existing file is invalid/);
    expect(await readFile(join(dir, 'b.prom'), 'utf8')).toBe(broken);
  });

  it('refuses to write through a symlink planted at the target', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, 'victim'), 'secret\n');
    await symlink(join(dir, 'victim'), join(dir, 'link.prom'));
    const result = promfile(['set', '--dir', dir, '-f', 'link', 'm', '1']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/link\.prom is a symbolic link/);
    expect(await readFile(join(dir, 'victim'), 'utf8')).toBe('secret\n');
    expect((await lstat(join(dir, 'link.prom'))).isSymbolicLink()).toBe(true);
  });

  it.skipIf(process.getuid?.() === 0)('a directory without write permission is exit 1 (non-root only)', async () => {
    const dir = await freshDir();
    await chmod(dir, 0o555);
    const result = promfile(['set', '--dir', dir, '-f', 'x', 'm', '1']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/permission denied/);
  });

  it('usage errors exit 2; --help and --version exit 0 on stdout', () => {
    expect(promfile(['set', '--bogus']).status).toBe(2);
    expect(promfile(['frobnicate']).status).toBe(2);
    const help = promfile(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/Usage: promfile/);
    const version = promfile(['--version']);
    expect(version.status).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

describe('write', () => {
  it('validates stdin and writes it canonically', async () => {
    const dir = await freshDir();
    const result = promfile(['write', '--dir', dir, '-f', 'w'], { input: 'b 2\n# HELP a A.\n# TYPE a gauge\na 1\n' });
    expect(result.status).toBe(0);
    expect(await readFile(join(dir, 'w.prom'), 'utf8')).toBe('# HELP a A.\n# TYPE a gauge\na 1\n# TYPE b untyped\nb 2\n');
  });

  it('refuses empty input unless --allow-empty, keeping the old file', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, 'e.prom'), 'old 1\n');
    const refused = promfile(['write', '--dir', dir, '-f', 'e'], { input: '' });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/input is empty.*--allow-empty/);
    expect(await readFile(join(dir, 'e.prom'), 'utf8')).toBe('old 1\n');
    expect(promfile(['write', '--dir', dir, '-f', 'e', '--allow-empty'], { input: '# only comments\n' }).status).toBe(0);
    expect(await readFile(join(dir, 'e.prom'), 'utf8')).toBe('');
  });

  it('--strip-timestamps drops them with one warning line', async () => {
    const dir = await freshDir();
    const result = promfile(['write', '--dir', dir, '-f', 't', '--strip-timestamps'], { input: 'a 1 1700000000000\nb 2 1700000000000\n' });
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('promfile: warning: <stdin>: line 1: timestamp dropped (and 1 more like it)\n');
    expect(await readFile(join(dir, 't.prom'), 'utf8')).toBe('# TYPE a untyped\na 1\n# TYPE b untyped\nb 2\n');
  });

  it('judges stdin by --node-exporter, with or without other files in the directory', async () => {
    const dir = await freshDir();
    const quoted = '{"a_b"} 1\n'; // a quoted legacy name: node_exporter 1.9 reads it, 1.5 rejects the file
    const refused = promfile(['write', '--dir', dir, '-f', 'q', '--node-exporter', '1.5'], { input: quoted });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/line 1: metric name "a_b" is quoted: node_exporter 1\.5 rejects the whole file/);
    for (const others of [[], ['other.prom']]) {
      for (const name of others) await writeFile(join(dir, name), 'other 1\n');
      const result = promfile(['write', '--dir', dir, '-f', 'q', '--node-exporter', '1.9'], { input: quoted });
      expect(result).toMatchObject({ status: 0, stderr: '' });
      expect(await readFile(join(dir, 'q.prom'), 'utf8')).toBe('# TYPE a_b untyped\na_b 1\n');
    }
  });

  it('refuses a name node_exporter keeps for itself, also in a directory with no other file', async () => {
    const dir = await freshDir();
    const result = promfile(['write', '--dir', dir, '-f', 'own'], { input: 'node_textfile_scrape_error 0\n' });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^promfile: .*own\.prom: metric "node_textfile_scrape_error" is node_exporter's own.*\n$/);
    expect(await visibleFiles(dir)).toEqual([]);
  });

  it('--dry-run prints the normalized file and writes nothing', async () => {
    const dir = await freshDir();
    const result = promfile(['write', '--dir', dir, '-f', 'd', '--dry-run'], { input: 'x{b="2",a="1"}   3\n' });
    expect(result).toMatchObject({ status: 0, stdout: '# TYPE x untyped\nx{b="2",a="1"} 3\n' });
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('unset and rm', () => {
  it('unset removes exact series; --family removes whole metrics; no match warns', async () => {
    const dir = await freshDir();
    promfile(['set', '--dir', dir, '-f', 'u', 'a{x="1"}=1', 'a{x="2"}=2', 'b=3']);
    expect(promfile(['unset', '--dir', dir, '-f', 'u', 'a{x="1"}']).status).toBe(0);
    let families = parseExposition(await readFile(join(dir, 'u.prom')));
    expect(families.map((f) => [f.name, f.samples.length])).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
    expect(promfile(['unset', '--dir', dir, '-f', 'u', '--family', 'a']).status).toBe(0);
    families = parseExposition(await readFile(join(dir, 'u.prom')));
    expect(families.map((f) => f.name)).toEqual(['b']);
    const none = promfile(['unset', '--dir', dir, '-f', 'u', 'zzz']);
    expect(none.status).toBe(0);
    expect(none.stderr).toMatch(/warning: nothing matched/);
  });

  it('rm deletes the file; a missing file only warns', async () => {
    const dir = await freshDir();
    promfile(['set', '--dir', dir, '-f', 'r', 'm', '1']);
    expect(promfile(['rm', '--dir', dir, '-f', 'r']).status).toBe(0);
    expect(await readdir(dir)).toEqual([]);
    const again = promfile(['rm', '--dir', dir, '-f', 'r']);
    expect(again.status).toBe(0);
    expect(again.stderr).toMatch(/did not exist/);
  });
});

describe('run', () => {
  it('passes options after the command to the command, with or without --', async () => {
    const dir = await freshDir();
    expect(promfile(['run', '--dir', dir, '--job', 'plain', 'sh', '-c', 'exit 5']).status).toBe(5);
    expect(promfile(['run', '--dir', dir, '--job', 'dashed', '--', 'sh', '-c', 'exit 6']).status).toBe(6);
    const families = parseExposition(await readFile(join(dir, 'plain.prom')));
    expect(families.find((f) => f.name === 'promfile_job_exit_code')?.samples[0]?.value).toBe(5);
  });
});

describe('locking', () => {
  it('concurrent sets of one file lose no update', async () => {
    const dir = await freshDir();
    const runs = Array.from({ length: 20 }, (_, i) =>
      promfileAsync(['set', '--dir', dir, '-f', 'c', `concurrent_value{writer="${i}"}`, String(i)]),
    );
    const results = await Promise.all(runs);
    expect(results.map((r) => r.status)).toEqual(results.map(() => 0));
    const [family] = parseExposition(await readFile(join(dir, 'c.prom')));
    expect(family?.samples).toHaveLength(20);
    expect(await visibleFiles(dir)).toEqual(['c.prom']);
  }, 90_000);

  it('times out with exit 1 while another process holds the lock; a pid left in a lock file by an old version blocks nobody', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, 'l.prom'), 'old 1\n');
    const holder = await holdLock(join(dir, '.l.prom.lock'));
    const blocked = promfile(['set', '--dir', dir, '-f', 'l', '--lock-timeout', '300ms', 'm', '1']);
    await holder.release();
    expect(blocked.status).toBe(1);
    expect(blocked.stderr).toMatch(/timed out after 300 ms waiting for lock .*\/\.l\.prom\.lock\n$/);
    expect(blocked.stderr).not.toContain('/proc/self/fd');
    expect(await readFile(join(dir, 'l.prom'), 'utf8')).toBe('old 1\n');
    // The kernel dropped the lock with its holder; what the file says does not matter.
    await writeFile(join(dir, '.l.prom.lock'), '1 some-host test\n');
    expect(promfile(['set', '--dir', dir, '-f', 'l', '--lock-timeout', '2s', 'm', '1']).status).toBe(0);
    expect(await visibleFiles(dir)).toEqual(['l.prom']);
  });
});

describe.skipIf(!NODE_EXPORTER)('node_exporter reads what promfile writes', () => {
  const suite = useNodeExporter();
  let dir: string;
  let exporter: NodeExporter;
  beforeAll(() => ({ dir, exporter } = suite));

  it('exposes set, merged and written series with node_textfile_scrape_error 0', async () => {
    expect(promfile(['set', '--dir', dir, '-f', 'backup', 'backup_last_success_timestamp_seconds', 'now']).status).toBe(0);
    expect(
      promfile([
        'set',
        '--dir',
        dir,
        '-f',
        'apt',
        'apt_upgrades_pending=3',
        'node_reboot_required=0',
        '-l',
        'origin=security',
        '--help-text',
        'Pending upgrades',
      ]).status,
    ).toBe(0);
    expect(promfile(['write', '--dir', dir, '-f', 'hist'], { input: readFixture('valid', 'histogram.prom') }).status).toBe(0);
    expect(promfile(['set', '--dir', dir, '-f', 'hist', 'escaped_info{path="C:\\\\x\\n\\"q\\""}', '1']).status).toBe(0);
    const scrape = await exporter.scrape();
    expect(scrapeError(scrape)).toBe(0);
    expect(samplesOf(scrape, 'backup_last_success_timestamp_seconds')).toHaveLength(1);
    expect(samplesOf(scrape, 'apt_upgrades_pending')).toEqual(['apt_upgrades_pending{origin="security"} 3']);
    expect(samplesOf(scrape, 'escaped_info')).toEqual(['escaped_info{path="C:\\\\x\\n\\"q\\""} 1']);
    expect(samplesOf(scrape, 'request_duration_seconds_bucket')).toHaveLength(6);
    expect(scrape).toMatch(/^# HELP apt_upgrades_pending Pending upgrades$/m);
  });

  it.skipIf(!PROMTOOL)('promtool finds no problem in the files set writes', async () => {
    promfile(['set', '--dir', dir, '-f', 'lint', 'jobs_processed_total', '5', 'queue_depth', '2']);
    expect(promtoolCheck(await readFile(join(dir, 'lint.prom'), 'utf8'))).toEqual({ status: 0, output: '' });
  });
});
