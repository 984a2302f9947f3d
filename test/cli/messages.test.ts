// Messages that lead to the fix: the hint fits the command, the library
// speaks its own terms, ambiguous input is refused, and commander's errors
// look like ours.
import { spawnSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Gauge, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushFamilies } from '../../src/push/gateway.js';
import { writeRegistry } from '../../src/textfile/registry.js';
import { promfile, ROOT, tempDir } from '../helpers/cli.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(async () => cleanup?.());

const set = (...args: string[]): ReturnType<typeof promfile> => promfile(['set', '--dir', dir, '-f', 'm', ...args]);

describe('hints fit the command (item 7)', () => {
  it('inc on a gauge does not suggest --replace, which inc does not have', async () => {
    await writeFile(join(dir, 'g.prom'), '# TYPE level gauge\nlevel 3\n');
    const result = promfile(['inc', '--dir', dir, '-f', 'g', 'level']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^promfile: "level" is a gauge in the file, not a counter \(inc adds to counters only/);
    expect(result.stderr).not.toMatch(/--replace/);
    expect(promfile(['set', '--dir', dir, '-f', 'g', 'level', '1', '--type', 'counter']).stderr).toMatch(/--replace rewrites/);
  });

  it('set on a file with a timestamp does not suggest --strip-timestamps; write does', async () => {
    await writeFile(join(dir, 't.prom'), 'a 1 1700000000000\n');
    const setResult = promfile(['set', '--dir', dir, '-f', 't', 'b', '1']);
    expect(setResult.status).toBe(2);
    expect(setResult.stderr).toMatch(/timestamp.*existing file is invalid.*--replace/);
    expect(setResult.stderr).not.toMatch(/--strip-timestamps/);
    const writeResult = promfile(['write', '--dir', dir, '-f', 'w'], { input: 'a 1 1700000000000\n' });
    expect(writeResult.stderr).toMatch(/timestamp.*--strip-timestamps drops them/);
  });

  it('1,000 is not "1.000": drop the separator', () => {
    const result = set('m', '1,000');
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/"1,000" has a ",".*for 1000, drop the separator/);
    expect(set('m', '0,5').stderr).toMatch(/decimal comma \(write 0\.5/);
  });

  it('names the character a metric name cannot hold, and the series by its text', () => {
    expect(set('disk-used-bytes', '5').stderr).toBe(
      'promfile: "disk-used-bytes": "-" is not allowed in a metric name (after "disk"; names are [a-zA-Z_:][a-zA-Z0-9_:]*, e.g. disk_used_bytes)\n',
    );
    expect(set('température=5').stderr).toMatch(/^promfile: "température=5": "é" is not allowed in a metric name/);
    expect(set('ok', '1', 'x_total', '-1').stderr).toMatch(/^promfile: "x_total": /);
    expect(set('ok', '1', 'x_total', '-1').stderr).not.toMatch(/argument \d/);
  });
});

describe('the library speaks its own terms; the CLI adds the flags (item 8)', () => {
  it('writeRegistry on a missing directory: no CLI flags or environment in the message', async () => {
    const registry = new Registry();
    new Gauge({ name: 'job_size', help: 'Size.', registers: [registry] }).set(1);
    const error = (await writeRegistry(registry, { dir: join(dir, 'missing'), name: 'x' }).catch((caught: unknown) => caught)) as Error;
    expect(error).toMatchObject({ code: 'ERR_DIR_MISSING' });
    expect(error.message).not.toMatch(/--|PROMFILE_DIR/);
    expect(promfile(['set', '--dir', join(dir, 'missing'), '-f', 'x', 'm', '1']).stderr).toMatch(
      /does not exist \(create it, pass --mkdir/,
    );
  });

  it('pushFamilies refusing a machine label: neither allowInstance nor --allow-instance; the CLI adds the flag', async () => {
    const families = [{ name: 'm', help: 'h', type: 'gauge' as const, samples: [{ name: 'm', labels: { instance: 'a' }, value: 1 }] }];
    const error = (await pushFamilies(families, { gateway: 'http://127.0.0.1:9', job: 'j' }).catch((caught: unknown) => caught)) as Error;
    expect(error).toMatchObject({ code: 'ERR_MACHINE_LABEL' });
    expect(error.message).not.toMatch(/allowInstance|--allow-instance/);
    const cli = promfile(['push', '--gateway', 'http://127.0.0.1:9', '--job', 'j', 'm{instance="a"}=1']);
    expect(cli.stderr).toMatch(/\(--allow-instance pushes anyway\)\n$/);
  });

  it('examples/write-registry.mjs on a missing directory prints one line', () => {
    // Given by PROMFILE_DIR, the textfile directory itself: not created (a directory given as an argument is).
    const result = spawnSync(process.execPath, [join(ROOT, 'examples', 'write-registry.mjs')], {
      encoding: 'utf8',
      env: { ...process.env, PROMFILE_DIR: join(dir, 'nope') },
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^write-registry: textfile directory .*nope does not exist \[ERR_DIR_MISSING\]\n$/);
  });
});

describe('ambiguous input is refused (item 9)', () => {
  it.each([
    [['m', '1', '-l', 'a=1', '-l', 'a=2'], /-l a: the label is given twice \("1" and "2"\)/],
    [['m', '1', 'm', '2'], /"m": the series is given twice in one call/],
    // An empty label is an absent one, to node_exporter too.
    [['m{a="1",b=""}', '1', 'm{a="1"}', '2'], /the series is given twice in one call/],
    [['m', '1', '-l', 'a=b,c=d'], /one label per -l \(write -l a=b -l c=d\)/],
    [['m', '1', '-l', 'mount="/"'], /the quotes would be part of the value; write -l mount=\//],
  ])('set %j', async (args, message) => {
    const result = set(...args);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    await expect(readFile(join(dir, 'm.prom'))).rejects.toThrow(/ENOENT/);
  });
});

describe('the command line itself (item 10)', () => {
  it("commander's own errors: the promfile: prefix and exit 2", () => {
    for (const args of [['set', '--bogus'], ['sett'], ['run', '--job']]) {
      const result = promfile(args);
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(/^promfile: /);
      expect(result.stderr).not.toMatch(/^error:/m);
    }
  });

  it('rm and unset do not offer --mkdir, --mode or --owner', () => {
    for (const command of ['rm', 'unset']) {
      const help = promfile([command, '--help']).stdout;
      expect(help).toMatch(/--lock-timeout/);
      expect(help).not.toMatch(/--mkdir|--mode|--owner/);
    }
  });

  it('check --file-path and check - do not say which directory they check', async () => {
    await writeFile(join(dir, 'c.prom'), 'c 1\n');
    // They name only the rules they judge by (a node_exporter version), not a directory.
    for (const result of [promfile(['check', '--file-path', join(dir, 'c.prom')]), promfile(['check', '-'], { input: 'c 1\n' })]) {
      expect(result.stderr).not.toMatch(/checking/);
      expect(result.stderr).toMatch(/^(promfile: judging by node_exporter [^\n]*\n)?$/);
    }
  });

  it('--mode that node_exporter running as another user cannot read warns', () => {
    const result = promfile(['set', '--dir', dir, '-f', 'private', '--mode', '0600', 'p', '1']);
    expect(result.status).toBe(0);
    expect(result.stderr).toBe(
      'promfile: warning: --mode 0600: node_exporter running as another user cannot read the file (it needs o+r, or --owner)\n',
    );
    // Another metric: p in a second file would be a duplicate series, which the directory check refuses.
    expect(promfile(['set', '--dir', dir, '-f', 'public', '--mode', '0644', 'q', '1']).stderr).toBe('');
  });
});

describe('real use, round 2: messages that say it once and name the right fix', () => {
  it('a message about a directory of 2,000 files names a few of them and how many more (not one line of every name)', async () => {
    const { dir: many, cleanup: done } = await tempDir();
    for (let i = 0; i < 2000; i++)
      await writeFile(join(many, `f${String(i).padStart(4, '0')}.prom`), `# TYPE shared_m gauge\nshared_m{f="${i}"} 1\n`);
    const result = promfile(['set', '--dir', many, '-f', 'zz', 'shared_m{f="x"}', '1', '--help-text', 'Mine.']);
    await done();
    expect(result.status).toBe(2);
    expect(result.stderr.length).toBeLessThan(1000);
    expect(result.stderr).toMatch(/f0000\.prom, .* and 1996 more/);
  });

  it('empty input names --allow-empty once', () => {
    for (const args of [[], ['--', 'true']]) {
      const result = promfile(['write', '--dir', dir, '-f', 'empty', ...args], { input: '' });
      expect(result.status, result.stderr).toBe(2);
      expect(result.stderr.match(/--allow-empty/g)).toHaveLength(1);
      expect(result.stderr.split('\n')).toHaveLength(2);
    }
  });

  it.skipIf(process.getuid?.() !== 0)('a directory the user cannot write: the message says so instead of "remove it"', async () => {
    const { dir: rootOnly, cleanup: done } = await tempDir();
    chmodSync(rootOnly, 0o755); // others may search it, not write it
    const bin = join(ROOT, 'bin', 'promfile.js');
    const args = [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      process.execPath,
      bin,
      'set',
      '--dir',
      rootOnly,
      '-f',
      'nope',
      'm',
      '1',
    ];
    const result = spawnSync('setpriv', args, { encoding: 'utf8', timeout: 30_000 });
    await done();
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `promfile: cannot create lock ${join(rootOnly, '.nope.prom.lock')}: ${rootOnly} is not writable by this user (permission denied); ` +
        'run as a user who may write there (often root), or choose another directory\n',
    );
  });
});
