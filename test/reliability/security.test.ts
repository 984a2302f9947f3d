// Security: file names that try to leave the directory, links planted where
// promfile writes, other-writable directories, --owner, and the file mode
// actually written.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { resolveTarget } from '../../src/textfile/files.js';
import { BIN, promfile, tempDir } from '../helpers/cli.js';
import { startNodeExporter, samplesOf, scrapeError, type NodeExporter } from '../helpers/node-exporter.js';

const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

describe('security', () => {
  let base: string;
  let cleanup: () => Promise<void>;
  let counter = 0;
  /** A fresh directory inside the test's temp root, and a victim file beside it. */
  function fresh(): { dir: string; victim: string } {
    const dir = join(base, `case-${++counter}`);
    mkdirSync(dir);
    const victim = join(base, `victim-${counter}`);
    writeFileSync(victim, 'precious data\n', { mode: 0o600 });
    return { dir, victim };
  }
  beforeAll(async () => ({ dir: base, cleanup } = await tempDir('promfile-security-')));
  afterAll(() => cleanup());

  describe('file names are names, never paths', () => {
    const refused = ['../escaped', 'a/b', '/etc/escaped', '..', '.', '.hidden', '', 'x/../../escaped', 'a b', 'name\nwith-newline'];
    for (const name of refused) {
      it(`-f ${JSON.stringify(name)} is refused with exit 2 and nothing is created`, () => {
        const { dir } = fresh();
        const before = readdirSync(base).sort();
        const result = promfile(['set', '--dir', dir, '-f', name, 'security_name_test', '1']);
        expect(result.status).toBe(2);
        expect(result.stderr).toMatch(/^promfile: file name ".*" is not allowed/s);
        expect(readdirSync(dir)).toEqual([]);
        expect(readdirSync(base).sort()).toEqual(before);
      });
    }

    // The name is quoted in the message; a newline in it must not split the line.
    it('the error for a name with a newline stays on one line', () => {
      const result = promfile(['set', '--dir', base, '-f', 'two\nlines', 'security_name_test', '1']);
      expect(result.status).toBe(2);
      expect(result.stderr.split('\n')).toHaveLength(2);
    });

    it('a NUL byte in a name or path is refused by the library (argv cannot carry one)', () => {
      expect(() => resolveTarget({ dir: base, name: 'a\u0000b' })).toThrow(InputError);
      expect(() => resolveTarget({ path: join(base, 'a\u0000b.prom') })).toThrow(/NUL/);
    });

    it('--file-path must end in .prom', () => {
      const { dir } = fresh();
      for (const path of [join(dir, 'x.txt'), join(dir, '.prom'), join(dir, 'x.prom.d')]) {
        const result = promfile(['set', '--file-path', path, 'security_name_test', '1']);
        expect(result.status, path).toBe(2);
        expect(result.stderr).toMatch(/must end in \.prom/);
      }
      expect(readdirSync(dir)).toEqual([]);
    });
  });

  describe('links planted where promfile writes', () => {
    it('a symlink at the target is refused by set, write and unset; the link and its target stay', () => {
      const { dir, victim } = fresh();
      const target = join(dir, 't.prom');
      symlinkSync(victim, target);
      for (const args of [['set', 'm', '1'], ['write'], ['unset', 'm']]) {
        const result = promfile([args[0] as string, '--dir', dir, '-f', 't', ...args.slice(1)], { input: 'm 1\n' });
        expect(result.status, args.join(' ')).toBe(1);
        expect(result.stderr).toMatch(/is a symbolic link; promfile does not write through links/);
      }
      expect(readFileSync(victim, 'utf8')).toBe('precious data\n');
      expect(statSync(victim).mode & 0o777).toBe(0o600);
      expect(readlinkSync(target)).toBe(victim);
      expect(readdirSync(dir).sort()).toEqual(['.t.prom.lock', 't.prom']); // the (empty, harmless) lock file stays
    });

    it('rm removes a symlink at the target, never the file it points to', () => {
      const { dir, victim } = fresh();
      symlinkSync(victim, join(dir, 't.prom'));
      const result = promfile(['rm', '--dir', dir, '-f', 't']);
      expect(result.status, result.stderr).toBe(0);
      expect(readdirSync(dir)).toEqual([]);
      expect(readFileSync(victim, 'utf8')).toBe('precious data\n');
    });

    it('a symlink at the lock name is refused and does not touch the file it points to', () => {
      const { dir, victim } = fresh();
      const old = new Date(Date.now() - 60_000);
      utimesSync(victim, old, old);
      symlinkSync(victim, join(dir, '.t.prom.lock'));
      const result = promfile(['set', '--dir', dir, '-f', 't', '--lock-timeout', '10s', 'security_lock_link', '1']);
      // Opened with O_NOFOLLOW: refused at once, naming it; nothing is written anywhere.
      expect(result.status).toBe(1);
      expect(result.stderr).toBe(`promfile: lock ${join(dir, '.t.prom.lock')} is a symbolic link: remove it\n`);
      expect(readFileSync(victim, 'utf8')).toBe('precious data\n');
      expect(readdirSync(dir)).toEqual(['.t.prom.lock']);
    });

    // A symlink planted at the temp name: see temp-link.test.ts (the name is
    // random, so that test fixes it to plant the link where the writer goes).
  });

  describe('file mode and owner', () => {
    let exporter: NodeExporter;
    let dir: string;
    beforeAll(async () => {
      dir = fresh().dir;
      exporter = await startNodeExporter(dir);
    });
    afterAll(() => exporter?.stop());

    it('the default mode is 0644 whatever the umask, so a non-root node_exporter can read it', () => {
      const result = spawnSync(
        'sh',
        ['-c', `umask 077 && exec "${process.execPath}" "${BIN}" set --dir "${dir}" -f umask security_mode 1`],
        { encoding: 'utf8' },
      );
      expect(result.status, result.stderr).toBe(0);
      expect(statSync(join(dir, 'umask.prom')).mode & 0o777).toBe(0o644);
    });

    it('--mode is applied exactly, and an existing file gets the requested (default) mode back', () => {
      // Its own metric: security_mode in a second file would be a duplicate series the directory check refuses.
      expect(promfile(['set', '--dir', dir, '-f', 'private', '--mode', '0600', 'security_private', '1']).status).toBe(0);
      expect(statSync(join(dir, 'private.prom')).mode & 0o777).toBe(0o600);
      chmodSync(join(dir, 'private.prom'), 0o640);
      expect(promfile(['set', '--dir', dir, '-f', 'private', 'security_private', '2']).status).toBe(0);
      expect(statSync(join(dir, 'private.prom')).mode & 0o777).toBe(0o644);
    });

    it('a malformed --mode is refused with exit 2', () => {
      for (const mode of ['644x', '0999', 'rw-r--r--', '12345']) {
        const result = promfile(['set', '--dir', dir, '-f', 'badmode', '--mode', mode, 'security_mode', '1']);
        expect(result.status, mode).toBe(2);
        expect(result.stderr).toMatch(/--mode/);
      }
      expect(readdirSync(dir)).not.toContain('badmode.prom');
    });

    it.skipIf(!isRoot)('as root, --owner gives the file to that user and group; node_exporter reads it', async () => {
      const result = promfile(['set', '--dir', dir, '-f', 'owned', '--owner', `${NOBODY}:${NOBODY}`, 'security_owned', '1']);
      expect(result.status, result.stderr).toBe(0);
      const info = statSync(join(dir, 'owned.prom'));
      expect([info.uid, info.gid, info.mode & 0o777]).toEqual([NOBODY, NOBODY, 0o644]);
      const scrape = await exporter.scrape();
      expect(scrapeError(scrape)).toBe(0);
      expect(samplesOf(scrape, 'security_owned')).toEqual(['security_owned 1']);
    });

    it.skipIf(!isRoot)('--owner without root is refused with exit 2 before anything is written', () => {
      const open = join(base, 'open-dir');
      mkdirSync(open);
      chmodSync(open, 0o777);
      const result = spawnSync(process.execPath, [BIN, 'set', '--dir', open, '-f', 'x', '--owner', 'root:root', 'security_owned', '1'], {
        encoding: 'utf8',
        uid: NOBODY,
        gid: NOBODY,
        cwd: '/',
      });
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/^promfile: --owner needs root/);
      expect(readdirSync(open)).toEqual([]);
    });
  });

  describe('directories writable by others', () => {
    for (const mode of [0o1777, 0o777]) {
      it(`in a ${mode.toString(8)} directory the file written is a regular 0644 file of the writer, and a planted target link is still refused`, () => {
        const { dir, victim } = fresh();
        chmodSync(dir, mode);
        if (isRoot && mode === 0o777) {
          // Anyone could remove or swap what is in it, the lock included: root refuses, flag or not.
          for (const trust of [[], ['--trust-parent']]) {
            const refused = promfile(['set', '--dir', dir, '-f', 'shared', ...trust, 'security_shared_dir', '1']);
            expect(refused.status).toBe(1);
            expect(refused.stderr).toContain(`refusing to write as root into ${dir}: it is writable by every user and not sticky`);
          }
          expect(readdirSync(dir)).toEqual([]);
          return;
        }
        const result = promfile(['set', '--dir', dir, '-f', 'shared', 'security_shared_dir', '1']);
        expect(result.status, result.stderr).toBe(0);
        const info = lstatSync(join(dir, 'shared.prom'));
        expect(info.isFile()).toBe(true);
        expect([info.uid, info.mode & 0o777]).toEqual([process.getuid?.(), 0o644]);
        symlinkSync(victim, join(dir, 'planted.prom'));
        expect(promfile(['set', '--dir', dir, '-f', 'planted', 'security_shared_dir', '1']).status).toBe(1);
        expect(readFileSync(victim, 'utf8')).toBe('precious data\n');
      });
    }
  });
});
