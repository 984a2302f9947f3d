// The three install routes of docs/install.md, each installed as a user would and then used
// for real: `promfile set` read back through node_exporter, `promfile check` clean.
// - the one-file build: dist/promfile.cjs copied alone;
// - npm: the packed tarball installed globally into a prefix (its man page too), and
//   require('promfile') / import 'promfile' from it;
// - the .deb: built, lintian-clean, installed with dpkg -i, then removed. It changes the
//   system, so it runs only under CI=true or PROMFILE_TEST_DEB=1, as root.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_EXPORTER, findBinary, requireBinary } from '../helpers/binaries.js';
import { NODE, ROOT, tempDir } from '../helpers/cli.js';
import { samplesOf, scrapeError, startNodeExporter, type NodeExporter } from '../helpers/node-exporter.js';

const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

function run(command: string, args: string[], env: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(command, args, { encoding: 'utf8', cwd: ROOT, env: { ...process.env, ...env }, timeout: 300_000 });
}

/** dpkg, waiting (bounded: 3 min) while another apt/dpkg holds its lock. */
async function dpkg(args: string[]): Promise<SpawnSyncReturns<string>> {
  for (let attempt = 0; ; attempt++) {
    const result = run('dpkg', args);
    if (result.status === 0 || !/lock/.test(result.stderr) || attempt === 90) return result;
    await sleep(2000);
  }
}

const ok = (result: SpawnSyncReturns<string>): string => {
  expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
  return result.stdout;
};

describe.skipIf(!NODE_EXPORTER)('install routes', () => {
  let dir: string;
  let work: string;
  let cleanups: (() => Promise<void>)[] = [];
  let exporter: NodeExporter;

  beforeAll(async () => {
    const textfiles = await tempDir('promfile-install-dir-');
    const scratch = await tempDir('promfile-install-');
    ({ dir } = textfiles);
    chmodSync(dir, 0o755); // node_exporter may run as another user: check insists
    work = scratch.dir;
    cleanups = [textfiles.cleanup, scratch.cleanup];
    exporter = await startNodeExporter(dir);
  });

  afterAll(async () => {
    await exporter?.stop();
    for (const cleanup of cleanups) await cleanup();
  });

  /** `promfile set` through the installed command, then the value as node_exporter serves it. */
  async function setAndScrape(promfile: string[], metric: string): Promise<void> {
    const [command, ...prefix] = promfile as [string, ...string[]];
    ok(run(command, [...prefix, 'set', '--dir', dir, '-f', metric, metric, '42']));
    ok(run(command, [...prefix, 'check', '--dir', dir, '-f', metric]));
    expect(ok(run(command, [...prefix, '--version'])).trim()).toBe(version);
    const scrape = await exporter.scrape();
    expect(scrapeError(scrape)).toBe(0);
    expect(samplesOf(scrape, metric)).toEqual([`${metric} 42`]);
  }

  it('one file: dist/promfile.cjs alone, no node_modules', async () => {
    const single = join(work, 'promfile.cjs');
    copyFileSync(join(ROOT, 'dist', 'promfile.cjs'), single);
    await setAndScrape([NODE, single], 'install_one_file');
  });

  it('npm: the packed tarball installed globally; the CLI, its man page, require() and import', async () => {
    const packed = ok(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work]));
    const tarball = join(work, (JSON.parse(packed) as { filename: string }[])[0]?.filename as string);
    const files = (JSON.parse(packed) as { files: { path: string }[] }[])[0]?.files.map((file) => file.path) ?? [];
    expect(files).toEqual(
      expect.arrayContaining([
        'bin/promfile.js',
        'dist/promfile.cjs',
        'dist/cjs/index.js',
        'dist/man/promfile.1',
        'LICENSE',
        'README.md',
        'docs/install.md',
      ]),
    );
    expect(files.filter((file) => file.endsWith('.map') || file.startsWith('src/'))).toEqual([]);
    const prefix = join(work, 'prefix');
    const installed = run('npm', ['install', '--global', '--prefer-offline', '--no-audit', '--no-fund', '--prefix', prefix, tarball]);
    ok(installed);
    expect(installed.stderr).not.toMatch(/install.?script|deprecated|EBADENGINE/i);
    await setAndScrape([NODE, join(prefix, 'bin', 'promfile')], 'install_npm');
    expect(existsSync(join(prefix, 'share', 'man', 'man1', 'promfile.1'))).toBe(true);
    const lib = join(prefix, 'lib', 'node_modules', 'promfile');
    const required = ok(run(NODE, ['-e', `process.stdout.write(typeof require(${JSON.stringify(lib)}).renderExposition)`]));
    expect(required).toBe('function');
    const imported = ok(
      run(NODE, [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(join(lib, 'dist', 'index.js'))}); process.stdout.write(typeof m.renderExposition)`,
      ]),
    );
    expect(imported).toBe('function');
  });

  // The package runs on the system's Node (/usr/bin/node): a PROMFILE_TEST_NODE run would repeat it.
  const debWanted =
    (process.env['CI'] === 'true' || process.env['PROMFILE_TEST_DEB'] === '1') &&
    process.getuid?.() === 0 &&
    !process.env['PROMFILE_TEST_NODE'];
  const preinstalled = run('dpkg-query', ['-W', '-f', '${Status}', 'promfile']).stdout.includes('installed');
  it.skipIf(!debWanted || !findBinary('dpkg-deb') || preinstalled)(
    'deb: lintian-clean, dpkg -i, used, dpkg -r',
    { timeout: 600_000 },
    async () => {
      const lintian = requireBinary('lintian');
      const deb = ok(run(NODE, [join(ROOT, 'scripts', 'deb.mjs')])).trim();
      expect(deb).toMatch(new RegExp(`promfile_${version.replace(/\./g, '\\.')}_all\\.deb$`));
      if (lintian) ok(run(lintian, ['--fail-on', 'error,warning', deb]));
      try {
        ok(await dpkg(['-i', deb]));
        await setAndScrape(['/usr/bin/promfile'], 'install_deb');
        expect(ok(run('man', ['-w', 'promfile'])).trim()).toBe('/usr/share/man/man1/promfile.1.gz');
        expect(existsSync('/usr/share/bash-completion/completions/promfile')).toBe(true);
        expect(existsSync('/usr/share/doc/promfile/copyright')).toBe(true);
        expect(existsSync('/usr/share/doc/promfile/docs/cron-jobs.md.gz')).toBe(true);
      } finally {
        ok(await dpkg(['-r', 'promfile']));
      }
      expect(existsSync('/usr/bin/promfile')).toBe(false);
    },
  );
});
