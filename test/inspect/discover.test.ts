// Directory auto-discovery: node_exporter's command line under /proc, read
// from a fake /proc tree, and once from the real /proc of a node_exporter
// this test starts.
import { spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { chmod, chown, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseDirectory, chooseProfile, discoverExporters, parseExporterArgs, scanExporters } from '../../src/inspect/discover.js';
import { main } from '../../src/cli/main.js';
import { InputError } from '../../src/errors.js';
import { createTestIo } from '../helpers/io.js';
import { DEFAULT_TEXTFILE_DIR } from '../../src/textfile/files.js';
import { NODE_EXPORTER } from '../helpers/binaries.js';
import { promfile, tempDir } from '../helpers/cli.js';
import { startNodeExporter } from '../helpers/node-exporter.js';

let root: string;
let cleanup: () => Promise<void>;
let proc: string;
let textfiles: string;

let bin: string;

interface FakeProcess {
  /** What /proc/PID/exe points to; default: the root-owned bin/<basename of argv[0]>. */
  exe?: string;
  cwd?: string;
  /** Real, effective, saved, filesystem uid (and the same for gids). */
  ids?: [number, number, number, number];
  /** Supplementary groups (the Groups: line). */
  groups?: number[];
  /** The process' cgroup path as /proc/PID/cgroup shows it (cgroup v2). */
  cgroup?: string;
}

/** The cgroup systemd gives Debian's node_exporter. */
const DEBIAN_UNIT = '/system.slice/prometheus-node-exporter.service';

async function fakeProcess(pid: number, argv: string[], options: FakeProcess = {}): Promise<void> {
  const dir = join(proc, String(pid));
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'cmdline'), `${argv.join('\u0000')}\u0000`);
  await symlink(options.exe ?? join(bin, (argv[0] ?? '').split('/').pop() ?? ''), join(dir, 'exe'));
  const ids = (options.ids ?? [0, 0, 0, 0]).join('\t');
  await writeFile(join(dir, 'status'), `Name:\tx\nUid:\t${ids}\nGid:\t${ids}\nGroups:\t${(options.groups ?? []).join(' ')}\n`);
  await writeFile(join(dir, 'cgroup'), `0::${options.cgroup ?? '/'}\n`);
  if (options.cwd) await symlink(options.cwd, join(dir, 'cwd'));
}

beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('promfile-discover-'));
  await chmod(root, 0o755);
  proc = join(root, 'proc');
  textfiles = join(root, 'textfiles');
  bin = join(root, 'bin');
  await mkdir(textfiles);
  await mkdir(bin);
  for (const name of ['prometheus-node-exporter', 'node_exporter', 'init', 'python3'])
    await writeFile(join(bin, name), '#!/bin/sh\n', { mode: 0o755 });
  // The fake exporter of pid 812 says its version as Debian 12's does.
  await writeFile(join(bin, 'prometheus-node-exporter'), '#!/bin/sh\necho "node_exporter, version 1.5.0 (branch: debian/sid)"\n');
  await writeFile(join(bin, 'writable'), '', { mode: 0o777 });
  await chmod(join(bin, 'writable'), 0o777);
  await mkdir(join(bin, 'w'));
  await writeFile(join(bin, 'w', 'node_exporter'), '', { mode: 0o755 });
  await chmod(join(bin, 'w', 'node_exporter'), 0o775); // group-writable binary
  await writeFile(
    join(textfiles, 'apt.prom'),
    '# HELP apt_upgrades_pending Pending.\n# TYPE apt_upgrades_pending gauge\napt_upgrades_pending 2\n',
  );
  await fakeProcess(1, ['/sbin/init', 'splash']);
  await fakeProcess(640, ['/usr/bin/prometheus-node-exporter', '--no-collector.textfile', '--collector.textfile.directory=/ignored']);
  await fakeProcess(
    812,
    ['/usr/bin/prometheus-node-exporter', '--web.listen-address=:9100', `--collector.textfile.directory=${textfiles}`],
    { ids: [112, 112, 112, 112], cgroup: DEBIAN_UNIT },
  );
  await fakeProcess(950, ['/usr/local/bin/node_exporter']); // no textfile directory: nothing to learn
  await fakeProcess(990, ['/usr/bin/python3', '--collector.textfile.directory=/not/an/exporter']);
  await mkdir(join(proc, 'self'));
  await writeFile(join(proc, 'meminfo'), 'MemTotal: 1 kB\n');
});

afterAll(async () => {
  await cleanup?.();
});

describe('parseExporterArgs', () => {
  it('reads both flag spellings and honours --no-collector.textfile', () => {
    expect(
      parseExporterArgs(['/usr/bin/prometheus-node-exporter', '--collector.textfile.directory=/a', '--collector.textfile.directory', '/b']),
    ).toEqual({
      executable: '/usr/bin/prometheus-node-exporter',
      directories: ['/a', '/b'],
      exporterMetrics: true,
      listenAddresses: [':9100'],
      metricsPath: '/metrics',
    });
    expect(
      parseExporterArgs([
        'node_exporter',
        '--web.listen-address=127.0.0.1:9101',
        '--web.listen-address',
        '[::1]:9102',
        '--web.telemetry-path=/m',
        '--collector.textfile.directory=/a',
      ]),
    ).toMatchObject({ listenAddresses: ['127.0.0.1:9101', '[::1]:9102'], metricsPath: '/m' });
    expect(
      parseExporterArgs(['node_exporter', '--web.disable-exporter-metrics', '--collector.textfile.directory=/a'])?.exporterMetrics,
    ).toBe(false);
    expect(parseExporterArgs(['node_exporter', '-collector.textfile.directory=/old'])?.directories).toEqual(['/old']);
    expect(parseExporterArgs(['node_exporter', '--no-collector.textfile', '--collector.textfile.directory=/a'])).toBeUndefined();
    expect(parseExporterArgs(['/usr/bin/vim', '--collector.textfile.directory=/a'])).toBeUndefined();
  });
});

describe('the node_exporter profile', () => {
  /**
   * A fake /proc with one trusted node_exporter (root's, root-owned binary)
   * whose binary prints `version`, or no version at all.
   */
  async function procWith(name: string, version: string | undefined, flags: string[] = []): Promise<string> {
    const fake = join(root, name);
    await mkdir(join(fake, '77'), { recursive: true });
    await writeFile(
      join(fake, '77', 'cmdline'),
      ['node_exporter', `--collector.textfile.directory=${textfiles}`, ...flags, ''].join('\u0000'),
    );
    await writeFile(join(fake, '77', 'status'), 'Name:\tx\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n');
    await mkdir(join(root, `${name}-bin`));
    const binary = join(root, `${name}-bin`, 'node_exporter');
    const said =
      version === undefined ? 'echo "no version here"' : `echo "node_exporter, version ${version} (branch: debian/sid, revision: 1)"`;
    await writeFile(binary, `#!/bin/sh\n${said}\n`, { mode: 0o755 });
    await symlink(binary, join(fake, '77', 'exe'));
    return fake;
  }

  it("is the running node_exporter's version, read from its binary, and says so", async () => {
    const chosen = chooseProfile({ procRoot: await procWith('proc19', '1.9.0') });
    expect(chosen.profile).toEqual({ versions: ['1.9'], exporterMetrics: true });
    expect(chosen.reason).toBe('node_exporter 1.9, the version of the running node_exporter (pid 77: 1.9.0)');
  });

  it('judges a running 1.10.x or 1.11.x by the 1.11 profile (both parse with LegacyValidation), and 1.12 by every version', async () => {
    for (const version of ['1.10.2', '1.11.1']) {
      const chosen = chooseProfile({ procRoot: await procWith(`proc-${version}`, version) });
      expect(chosen.profile).toEqual({ versions: ['1.11'], exporterMetrics: true });
      expect(chosen.reason).toBe(`node_exporter 1.11, the version of the running node_exporter (pid 77: ${version})`);
    }
    const newer = chooseProfile({ procRoot: await procWith('proc112', '1.12.1') });
    expect(newer.profile).toEqual({ versions: ['1.5', '1.9', '1.11'], exporterMetrics: true });
    expect(newer.reason).toContain('is version 1.12.1, which promfile has no profile for');
  });

  it('follows --node-exporter, and reads --web.disable-exporter-metrics from the command line', async () => {
    const procRoot = await procWith('proc-flags', '1.9.0', ['--web.disable-exporter-metrics']);
    expect(chooseProfile({ procRoot, flag: '1.5' }).profile).toEqual({ versions: ['1.5'], exporterMetrics: false });
  });

  it('is every known version at once when none runs, or its version is unknown or unreadable', async () => {
    const strictest = { versions: ['1.5', '1.9', '1.11'], exporterMetrics: true };
    expect(chooseProfile({ procRoot: join(root, 'no-such-proc') })).toEqual({
      profile: strictest,
      reason: 'node_exporter 1.5, 1.9 and 1.11 at once (the strictest): no running node_exporter found',
    });
    const unknown = chooseProfile({ procRoot: await procWith('proc17', '1.7.0') });
    expect(unknown.profile).toEqual(strictest);
    expect(unknown.reason).toContain('is version 1.7.0, which promfile has no profile for');
    expect(chooseProfile({ procRoot: await procWith('proc-none', undefined) }).reason).toContain('whose version could not be read');
    // Only a node_exporter that reads the directory judges it.
    expect(chooseProfile({ procRoot: await procWith('proc19b', '1.9.0'), dir: '/elsewhere' }).reason).toContain(
      'no running node_exporter reads /elsewhere',
    );
  });
});

describe('discovery from a fake /proc', () => {
  /** A fresh fake /proc holding `processes` (pid, argv, options). */
  async function tree(name: string, processes: [number, string[], FakeProcess?][]): Promise<string> {
    const saved = proc;
    proc = join(root, name);
    try {
      for (const [pid, argv, options] of processes) await fakeProcess(pid, argv, options);
      return proc;
    } finally {
      proc = saved;
    }
  }

  it('finds the node_exporters that name a textfile directory, resolving relative ones against their cwd', async () => {
    expect(discoverExporters(proc)).toEqual([
      {
        pid: 812,
        uid: 112,
        unit: 'prometheus-node-exporter.service',
        executable: join(bin, 'prometheus-node-exporter'),
        directories: [textfiles],
        exporterMetrics: true,
        listenAddresses: [':9100'],
        metricsPath: '/metrics',
      },
    ]);
    const relative = await tree('proc-relative', [
      [
        900,
        ['node_exporter', '--collector.textfile.directory', 'relative/tf', '--web.listen-address', '127.0.0.1:9200'],
        { cwd: '/opt/exporter' },
      ],
    ]);
    expect(discoverExporters(relative)).toEqual([
      {
        pid: 900,
        uid: 0,
        executable: join(bin, 'node_exporter'),
        directories: ['/opt/exporter/relative/tf'],
        exporterMetrics: true,
        listenAddresses: ['127.0.0.1:9200'],
        metricsPath: '/metrics',
      },
    ]);
    expect(discoverExporters(join(root, 'no-such-proc'))).toEqual([]);
  });

  it('chooses --dir, then $PROMFILE_DIR, then the running node_exporter, then the Debian default', () => {
    expect(chooseDirectory({ flag: '/flag', env: { PROMFILE_DIR: '/env' }, procRoot: proc })).toMatchObject({
      dir: '/flag',
      source: 'flag',
    });
    expect(chooseDirectory({ env: { PROMFILE_DIR: '/env' }, procRoot: proc })).toMatchObject({ dir: '/env', source: 'env' });
    const found = chooseDirectory({ env: {}, procRoot: proc });
    expect(found).toMatchObject({ dir: textfiles, source: 'node_exporter' });
    expect(found.reason).toBe(
      'from --collector.textfile.directory of the running node_exporter (pid 812, prometheus-node-exporter.service, uid 112)',
    );
    expect(chooseDirectory({ env: {}, procRoot: join(root, 'no-such-proc') })).toMatchObject({
      dir: DEFAULT_TEXTFILE_DIR,
      source: 'default',
    });
  });

  it('refuses to pick one of several directories that trusted node_exporters read, naming each and its process', async () => {
    const several = await tree('proc-several', [
      [
        812,
        ['/usr/bin/prometheus-node-exporter', `--collector.textfile.directory=${textfiles}`],
        { ids: [112, 112, 112, 112], cgroup: DEBIAN_UNIT },
      ],
      [900, ['node_exporter', '--collector.textfile.directory=/srv/other-tf']],
    ]);
    const refusal = (): unknown => chooseDirectory({ env: {}, procRoot: several, uid: 0 });
    expect(refusal).toThrow(InputError);
    expect(refusal).toThrow(
      `node_exporters read different textfile directories: ${textfiles} (pid 812, prometheus-node-exporter.service, uid 112), ` +
        '/srv/other-tf (pid 900, uid 0); say which with --dir (or $PROMFILE_DIR)',
    );
    expect(refusal).toThrow(expect.objectContaining({ code: 'ERR_AMBIGUOUS_DIR' }));
    // --dir and $PROMFILE_DIR still decide.
    expect(chooseDirectory({ env: { PROMFILE_DIR: '/env' }, procRoot: several })).toMatchObject({ dir: '/env' });
    // Every command that would have guessed refuses: exit 2, nothing written.
    const set = createTestIo({ uid: 0, procRoot: several });
    expect(await main(['set', '-f', 'guessed', 'guessed_metric', '1'], set.io)).toBe(2);
    expect(set.stderr()).toMatch(/^promfile: node_exporters read different textfile directories: .*say which with --dir/);
    expect(existsSync(join(textfiles, 'guessed.prom'))).toBe(false);
    // One directory read by several processes is no choice at all.
    const shared = await tree('proc-shared', [
      [
        812,
        ['/usr/bin/prometheus-node-exporter', `--collector.textfile.directory=${textfiles}`],
        { ids: [112, 112, 112, 112], cgroup: DEBIAN_UNIT },
      ],
      [900, ['node_exporter', `--collector.textfile.directory=${textfiles}`]],
    ]);
    expect(chooseDirectory({ env: {}, procRoot: shared, uid: 0 })).toMatchObject({ dir: textfiles, source: 'node_exporter' });
  });

  it.skipIf(process.getuid?.() !== 0)(
    'trusts a system account only in a node_exporter systemd unit, and only for a directory that account can read',
    async () => {
      const rootOnly = join(root, 'root-only');
      await mkdir(join(rootOnly, 'dir'), { recursive: true });
      await chmod(rootOnly, 0o700);
      const groupOnly = join(root, 'group-only');
      await mkdir(groupOnly, { recursive: true });
      await chown(groupOnly, 0, 4321);
      await chmod(groupOnly, 0o750);
      const www: FakeProcess = { ids: [33, 33, 33, 33], cgroup: DEBIAN_UNIT };
      const names = (dir: string): string[] => ['/usr/bin/prometheus-node-exporter', `--collector.textfile.directory=${dir}`];
      const hostile = await tree('proc-hostile', [
        // www-data's own code runs in the web server's unit, or in a login session.
        [720, names(join(rootOnly, 'dir')), { ...www, cgroup: '/system.slice/apache2.service' }],
        [721, names(join(rootOnly, 'dir')), { ...www, cgroup: '/user.slice/user-1000.slice/session-3.scope' }],
        // Even in node_exporter's unit, an account that cannot read the directory is not the one reading it.
        [722, names(join(rootOnly, 'dir')), www],
        [723, names(groupOnly), www],
      ]);
      const { exporters, ignored } = scanExporters(hostile, 0);
      expect(exporters).toEqual([]);
      expect(ignored.map(({ pid, reason }) => `${pid}: ${reason}`)).toEqual([
        '720: it runs as uid 33 in apache2.service, not in a node_exporter systemd unit',
        '721: it runs as uid 33 outside any systemd system unit (cgroup /user.slice/user-1000.slice/session-3.scope)',
        `722: its account (uid 33) cannot read ${join(rootOnly, 'dir')}, so it is not the node_exporter that reads it`,
        `723: its account (uid 33) cannot read ${groupOnly}, so it is not the node_exporter that reads it`,
      ]);
      expect(chooseDirectory({ env: {}, procRoot: hostile, uid: 0 })).toMatchObject({ source: 'default' });
      // In the directory's group, the same account reads it.
      const member = await tree('proc-member', [[723, names(groupOnly), { ...www, groups: [4321] }]]);
      expect(chooseDirectory({ env: {}, procRoot: member, uid: 0 })).toMatchObject({ dir: groupOnly, source: 'node_exporter' });
      // Under cgroup v1, systemd's own hierarchy names the unit.
      await writeFile(join(member, '723', 'cgroup'), `4:memory:/system.slice/x.service\n1:name=systemd:${DEBIAN_UNIT}\n`);
      expect(discoverExporters(member, 0)[0]?.unit).toBe('prometheus-node-exporter.service');
      // check says why it ignored them.
      const t = createTestIo({ uid: 0, procRoot: hostile });
      await main(['check'], t.io);
      expect(t.stderr()).toContain(
        'promfile: warning: not trusting process 720 to choose the textfile directory: it runs as uid 33 in apache2.service, not in a node_exporter systemd unit\n',
      );
      expect(t.stderr()).toContain(`promfile: checking ${DEFAULT_TEXTFILE_DIR} (the Debian default`);
    },
  );

  it.skipIf(process.getuid?.() !== 0)(
    'trusts only what the kernel vouches for: the binary /proc/PID/exe shows, its owner and mode, and unchanged ids',
    async () => {
      const flag = '--collector.textfile.directory=/home/mallory/tf';
      await mkdir(join(bin, 'u'));
      await writeFile(join(bin, 'u', 'node_exporter'), '', { mode: 0o755 });
      await chown(join(bin, 'u', 'node_exporter'), 1001, 1001);
      const impostors = await tree('proc-impostors', [
        // `exec -a /usr/bin/node_exporter su ...`: argv[0] lies, the kernel does not.
        [700, ['/usr/bin/node_exporter', flag], { exe: '/usr/bin/su' }],
        // A setuid program: real uid 1001, effective root.
        [701, ['node_exporter', flag], { ids: [1001, 0, 0, 0] }],
        [702, ['node_exporter', flag], { exe: join(bin, 'w', 'node_exporter') }],
        [703, ['node_exporter', flag], { ids: [1001, 1001, 1001, 1001] }],
        [704, ['node_exporter', flag], { exe: join(bin, 'missing', 'node_exporter') }],
        [705, ['node_exporter', flag], { exe: join(bin, 'u', 'node_exporter') }],
      ]);
      const { exporters, ignored } = scanExporters(impostors, 0);
      expect(exporters).toEqual([]);
      expect(ignored.map(({ pid, reason }) => `${pid}: ${reason.replace(/ \(executable .*\)$/, '')}`)).toEqual([
        '700: its executable is not named node_exporter or prometheus-node-exporter',
        '701: it runs set-id (real and effective ids differ)',
        '702: its executable is writable by group or others',
        '703: it runs as uid 1001, neither root, a system account nor you',
        '704: its executable cannot be examined',
        '705: its executable belongs to uid 1001, not root',
      ]);
      expect(chooseDirectory({ env: {}, procRoot: impostors, uid: 0 })).toMatchObject({ source: 'default' });
      // The same user's own node_exporter may choose that user's directory.
      expect(chooseDirectory({ env: {}, procRoot: impostors, uid: 1001 })).toMatchObject({
        dir: '/home/mallory/tf',
        source: 'node_exporter',
      });
      // check says why it ignored them.
      const t = createTestIo({ uid: 0, procRoot: impostors });
      await main(['check'], t.io);
      expect(t.stderr()).toContain('promfile: warning: not trusting process 701 to choose the textfile directory: it runs set-id');
      expect(t.stderr()).toContain(`promfile: checking ${DEFAULT_TEXTFILE_DIR} (the Debian default`);
    },
  );

  it('every command uses it; check says which directory and why', async () => {
    const checked = createTestIo({ uid: 0, procRoot: proc });
    expect(await main(['check'], checked.io)).toBe(0);
    expect(checked.stderr()).toBe(
      `promfile: checking ${textfiles} (from --collector.textfile.directory of the running node_exporter (pid 812, prometheus-node-exporter.service, uid 112)), judging by node_exporter 1.5, the version of the running node_exporter (pid 812: 1.5.0)\n`,
    );
    expect(checked.stdout()).toBe('1 file, 1 series: no problems: node_exporter will expose every series\n');
    const listed = createTestIo({ uid: 0, procRoot: proc });
    expect(await main(['ls', '--format', 'json'], listed.io)).toBe(0);
    expect((JSON.parse(listed.stdout()) as { directory: string }).directory).toBe(textfiles);
    expect(await main(['set', '-f', 'discovered', 'discovered_metric', '1'], createTestIo({ uid: 0, procRoot: proc }).io)).toBe(0);
    const again = createTestIo({ uid: 0, procRoot: proc });
    expect(await main(['check', '-f', 'discovered'], again.io)).toBe(0);
    expect(again.stdout()).toBe('1 file, 1 series: no problems: node_exporter will expose every series\n');
    // $PROMFILE_DIR still comes first.
    const fromEnv = createTestIo({ uid: 0, procRoot: proc, env: { PROMFILE_DIR: root } });
    await main(['check'], fromEnv.io);
    expect(fromEnv.stderr()).toBe(
      `promfile: checking ${root} (from $PROMFILE_DIR), judging by node_exporter 1.5, 1.9 and 1.11 at once (the strictest): no running node_exporter reads ${root}\n`,
    );
  });

  it('the installed CLI ignores $PROMFILE_PROC_ROOT and never runs a binary of a process tree it is pointed at', async () => {
    const marker = join(root, 'ran-it');
    const planted = join(root, 'planted-bin');
    await mkdir(planted);
    await writeFile(join(planted, 'node_exporter'), `#!/bin/sh\ntouch ${marker}\necho "node_exporter, version 1.9.0"\n`, { mode: 0o755 });
    const fake = await tree('proc-planted', [
      [4242, ['node_exporter', '--collector.textfile.directory=/planted/tf'], { exe: join(planted, 'node_exporter') }],
    ]);
    // The library, asked in-process, sees the fake tree…
    expect(chooseDirectory({ env: {}, procRoot: fake, uid: 0 }).dir).toBe('/planted/tf');
    // …the shipped CLI, told through its environment, does not.
    const checked = promfile(['check', '--dir', '/planted/tf'], { env: { PROMFILE_PROC_ROOT: fake } });
    const listed = promfile(['ls'], { env: { PROMFILE_PROC_ROOT: fake } });
    expect(checked.stderr).not.toContain('4242');
    expect(listed.stderr).not.toContain('/planted/tf');
    expect(existsSync(marker)).toBe(false);
  });
});

describe('the version of a running node_exporter', () => {
  it("is read only from the kernel's /proc/PID/exe, never from a path on its command line", async () => {
    const marker = join(root, 'ran-argv0');
    const liar = join(root, 'liar-bin');
    await mkdir(liar);
    await writeFile(join(liar, 'node_exporter'), `#!/bin/sh\ntouch ${marker}\necho "node_exporter, version 1.9.0"\n`, { mode: 0o755 });
    const fake = join(root, 'proc-argv0');
    await mkdir(join(fake, '78'), { recursive: true });
    await writeFile(
      join(fake, '78', 'cmdline'),
      [join(liar, 'node_exporter'), `--collector.textfile.directory=${textfiles}`, ''].join('\u0000'),
    );
    await writeFile(join(fake, '78', 'status'), 'Name:\tx\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n');
    // The kernel's binary prints no version.
    await symlink(join(bin, 'node_exporter'), join(fake, '78', 'exe'));
    expect(chooseProfile({ procRoot: fake }).reason).toContain('whose version could not be read');
    expect(existsSync(marker)).toBe(false);
  });
});

describe.skipIf(!NODE_EXPORTER)('discovery from the real /proc', () => {
  it('finds a node_exporter started here and its textfile directory', async () => {
    const { dir, cleanup: done } = await tempDir('promfile-discover-real-');
    const exporter = await startNodeExporter(dir);
    try {
      // Other node_exporters may be running (other tests): ours must be among them.
      // An impostor: argv[0] says node_exporter, /proc/PID/exe says sh.
      const impostor = spawn('sh', ['-c', 'sleep 30; true', '--collector.textfile.directory=/evil'], { argv0: '/usr/bin/node_exporter' });
      try {
        await new Promise((resolve) => setTimeout(resolve, 200));
        const { exporters, ignored } = scanExporters(undefined, 0);
        const directories = exporters.flatMap((found) => found.directories);
        expect(directories).toContain(dir);
        expect(directories).not.toContain('/evil');
        expect(exporters.find((found) => found.directories.includes(dir))?.executable).toBe(realpathSync(NODE_EXPORTER as string));
        expect(ignored.find((process) => process.pid === impostor.pid)?.reason).toMatch(
          /not named node_exporter .*executable \/(usr\/)?bin\/(da)?sh/,
        );
      } finally {
        impostor.kill('SIGKILL');
      }
    } finally {
      await exporter.stop();
      await done();
    }
  });
});
