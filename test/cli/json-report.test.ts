// --format json and --dry-run for configuration management: "changed" says
// whether the file's series changed (not its bytes), and Ansible's
// changed_when can use it (tested with the real ansible-playbook).
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBinary } from '../helpers/binaries.js';
import { BIN, promfile, tempDir } from '../helpers/cli.js';

const ANSIBLE = requireBinary('ansible-playbook');

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(async () => cleanup?.());

function report(args: string[], input?: string): Record<string, unknown> {
  const result = promfile([args[0] as string, '--format', 'json', ...args.slice(1)], input === undefined ? {} : { input });
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

describe('--format json', () => {
  it('set: changed compares series, so the same values in another layout are unchanged', async () => {
    const path = join(dir, 'a.prom');
    expect(report(['set', '--dir', dir, '-f', 'a', 'm', '1'])).toEqual({
      file: path,
      changed: true,
      written: true,
      dryRun: false,
      series: 1,
      warnings: [],
    });
    expect(report(['set', '--dir', dir, '-f', 'a', 'm', '1.0'])).toMatchObject({ changed: false });
    // Same series, different bytes (order, spacing of a hand-edited file): not a change.
    await writeFile(path, '# TYPE m gauge\n# HELP m Written by promfile.\nm   1e0\n');
    expect(report(['set', '--dir', dir, '-f', 'a', 'm', '1'])).toMatchObject({ changed: false });
    expect(report(['set', '--dir', dir, '-f', 'a', 'm', '2', '--dry-run'])).toMatchObject({ changed: true, written: false, dryRun: true });
    expect(await readFile(path, 'utf8')).toMatch(/^m 1$/m);
  });

  it('write, unset, inc, rm and run print one object each', () => {
    expect(report(['write', '--dir', dir, '-f', 'w'], 'w 1\n')).toMatchObject({ changed: true, series: 1 });
    expect(report(['write', '--dir', dir, '-f', 'w'], 'w 1\n')).toMatchObject({ changed: false });
    expect(report(['unset', '--dir', dir, '-f', 'w', 'nothing'])).toMatchObject({
      changed: false,
      warnings: [expect.stringMatching(/nothing matched/)],
    });
    expect(report(['inc', '--dir', dir, '-f', 'w', 'c_total', '--dry-run'])).toMatchObject({ changed: true, written: false });
    expect(report(['inc', '--dir', dir, '-f', 'w', 'c_total'])).toMatchObject({ changed: true, written: true, series: 2 });
    expect(report(['rm', '--dir', dir, '-f', 'w', '--dry-run'])).toMatchObject({ changed: true, written: false, dryRun: true });
    expect(report(['rm', '--dir', dir, '-f', 'w'])).toMatchObject({ changed: true, written: true });
    expect(report(['rm', '--dir', dir, '-f', 'w'])).toMatchObject({ changed: false, warnings: [expect.stringMatching(/did not exist/)] });
    expect(report(['run', '--dir', dir, '--job', 'j', '--', 'true'])).toMatchObject({
      job: 'j',
      result: 'success',
      exitCode: 0,
      changed: true,
    });
  });
});

describe('--format json on failure', () => {
  // Configuration management parses stdout; an empty stdout made from_json fail instead of the task.
  function failure(args: string[]): { status: number | null; report: Record<string, unknown>; stderr: string } {
    const result = promfile(args);
    expect(result.stdout.trim().split('\n'), result.stdout).toHaveLength(1);
    return { status: result.status, report: JSON.parse(result.stdout) as Record<string, unknown>, stderr: result.stderr };
  }

  it('prints one object with the error code, message and exit status; stderr keeps its one line', () => {
    const missing = join(dir, 'missing');
    const run = failure(['set', '--format', 'json', '--dir', missing, '-f', 'a', 'm', '1']);
    expect(run.status).toBe(1);
    expect(run.report).toEqual({
      error: { code: 'ERR_DIR_MISSING', message: expect.stringContaining(missing) as unknown },
      exitStatus: 1,
      warnings: [],
    });
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^promfile: .*missing/);
  });

  it('covers input errors, usage errors and every command with --format json', () => {
    expect(failure(['set', '--format', 'json', '--dir', dir, '-f', 'a', '1bad', '1'])).toMatchObject({
      status: 2,
      report: { error: { code: 'ERR_INVALID_ARGUMENT' }, exitStatus: 2 },
    });
    expect(failure(['set', '--format=json', '--dir', dir, '-f', 'a', 'm', '1', '--no-such-flag'])).toMatchObject({
      status: 2,
      report: { error: { code: 'ERR_USAGE', message: expect.stringMatching(/no-such-flag/) as unknown }, exitStatus: 2 },
    });
    for (const args of [
      ['ls', '--format', 'json', '--dir', join(dir, 'missing')],
      ['write', '--format', 'json', '--dir', dir, '-f', 'w'],
      ['inc', '--format', 'json', '--dir', join(dir, 'missing'), '-f', 'w', 'c_total'],
    ]) {
      const run = failure(args);
      expect(run.status, args.join(' ')).not.toBe(0);
      expect(run.report, args.join(' ')).toMatchObject({
        error: { code: expect.stringMatching(/^ERR_/) as unknown },
        exitStatus: run.status,
      });
    }
  });

  it('prints nothing on stdout on failure without --format json', () => {
    const result = promfile(['set', '--dir', join(dir, 'missing'), '-f', 'a', 'm', '1']);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
  });
});

/** Run one play of `tasks` (YAML, promfile already spelt as node and the bundle) against localhost. */
async function playTasks(name: string, tasks: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const playbook = join(dir, `${name}.yml`);
  await writeFile(playbook, `- hosts: localhost\n  gather_facts: false\n  tasks:\n${tasks.replace(/^/gm, '    ')}\n`);
  return spawnSync(ANSIBLE as string, ['-c', 'local', '-i', 'localhost,', playbook], {
    encoding: 'utf8',
    env: {
      ...process.env,
      PROMFILE_DIR: dir,
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_LOCAL_TEMP: join(dir, '.ansible'),
      ANSIBLE_HOME: join(dir, '.ansible'),
    },
    timeout: 120_000,
  });
}

describe.skipIf(!ANSIBLE)('the README Ansible task, run by ansible-playbook -c local', () => {
  it('reports changed on the first run and ok on the second', async () => {
    const readme = await readFile(join(BIN, '..', '..', 'README.md'), 'utf8');
    const task = /```yaml\n(- name: Record[\s\S]*?)```/.exec(readme)?.[1];
    expect(task).toBeDefined();
    const tasks = (task as string).replaceAll('promfile ', `${process.execPath} ${BIN} `);
    const play = async (): Promise<string> => {
      const result = await playTasks('play', tasks);
      expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
      return result.stdout;
    };
    expect(await play()).toMatch(/localhost\s*: ok=1\s+changed=1 /);
    expect(await play()).toMatch(/localhost\s*: ok=1\s+changed=0 /);
    expect(await readFile(join(dir, 'backup.prom'), 'utf8')).toMatch(/^backup_retention_days 14$/m);
  }, 300_000);

  it("a task that checks the JSON error fails with promfile's message, not a from_json error", async () => {
    // The README's own task, given a value promfile refuses: changed_when and failed_when both read the one object.
    const readme = await readFile(join(BIN, '..', '..', 'README.md'), 'utf8');
    const readmeTask = /```yaml\n(- name: Record[\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(readmeTask).toMatch(/failed_when: \(promfile\.stdout \| from_json\)\.error is defined/);
    const task = readmeTask
      .replaceAll('promfile set', `${process.execPath} ${BIN} set`)
      .replace('backup_retention_days 14', 'backup_retention_days not-a-number');
    const result = await playTasks('fail', task);
    expect(result.status).not.toBe(0);
    expect(result.stdout).toMatch(/localhost\s*: ok=0\s+changed=0\s+unreachable=0\s+failed=1 /);
    expect(result.stdout).toMatch(/"failed_when_result": true/);
    expect(result.stdout).toMatch(/ERR_INVALID_ARGUMENT/);
    expect(result.stdout).not.toMatch(/from_json|Expecting value/);
  }, 300_000);
});
