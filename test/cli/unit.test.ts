// `promfile unit`, through the built CLI: the pair it prints loads in systemd's
// own parser, the service's command line is what systemd would run, and running
// that command line records the job with the timer's schedule; refusals are one
// line on stderr, and --write never half-writes or overwrites.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSeries } from '../../src/format/model.js';
import { readExposition } from '../../src/format/parse.js';
import { BIN, NODE, promfile, tempDir } from '../helpers/cli.js';
import { fencedBlocks } from '../helpers/docs.js';
import { fakeSystemctl, systemdElapses, timerShow } from '../helpers/systemd.js';
import { execArgv, loadUnits, SYSTEMD_ANALYZE, SYSTEMD_MANAGER, verifyUnits } from '../helpers/systemd-units.js';

let dir: string;
let cleanup: () => Promise<void>;
/** A directory on PATH holding `promfile` (runs the built CLI) and `job` (records its arguments, one per line as JSON). */
let bin: string;
let PATH: string;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('promfile-unit-'));
  chmodSync(dir, 0o755);
  bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'promfile'), `#!/bin/sh\nexec ${JSON.stringify(NODE)} ${JSON.stringify(BIN)} "$@"\n`, { mode: 0o755 });
  writeFileSync(
    join(bin, 'job'),
    `#!${process.execPath}\nrequire('node:fs').writeFileSync(${JSON.stringify(join(dir, 'job-args'))}, JSON.stringify(process.argv.slice(2)));\n`,
    { mode: 0o755 },
  );
  PATH = `${bin}:${process.env['PATH'] ?? '/usr/bin:/bin'}`;
});
afterAll(async () => cleanup?.());

/** The unit files in `promfile unit`'s output: each after its `# PATH` line. */
function splitUnits(stdout: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const part of stdout.split(/^(?=# \/)/m)) {
    const [header, ...rest] = part.split('\n');
    files[(header as string).replace(/^# /, '')] = rest.join('\n');
  }
  return files;
}

const base = (path: string): string => path.slice(path.lastIndexOf('/') + 1);

/** Arguments systemd's parser, specifiers and variables would each change if they were not quoted right. */
const TRICKY = ['--full', 'two words', '', ';', 'it\'s "quoted"', 'back\\slash', '$HOME', '${USER}', '100%', '%n', 'new\nline', 'ünï'];

describe.skipIf(!SYSTEMD_MANAGER || !SYSTEMD_ANALYZE)('promfile unit: the pair, as systemd reads and runs it', () => {
  it('prints a pair that loads and verifies; the service runs promfile run --timer with the options and the command as given', async () => {
    const textfiles = join(dir, 'textfiles');
    mkdirSync(textfiles);
    const args = ['unit', 'nightly', '--on-calendar', '*-*-* 02:30', '--randomized-delay', '15m', '--accuracy', '1s', '--persistent'];
    const runOptions = ['--dir', textfiles, '--timeout', '2h', '-l', 'team=a b', '--no-overlap'];
    const result = promfile([...args, ...runOptions, '--', 'job', ...TRICKY], { env: { PATH } });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const printed = splitUnits(result.stdout);
    expect(Object.keys(printed)).toEqual(['/etc/systemd/system/nightly.service', '/etc/systemd/system/nightly.timer']);
    const files = Object.fromEntries(Object.entries(printed).map(([path, text]) => [base(path), text]));

    // systemd-analyze verify, as systemctl would load them from a unit directory.
    const unitDir = join(dir, 'units');
    mkdirSync(unitDir);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(unitDir, name), text);
    const verified = verifyUnits(Object.keys(files).map((name) => join(unitDir, name)));
    expect(verified.output).toBe('');
    expect(verified.status).toBe(0);

    // The manager's own parser: the timer's settings, and the argv it would start.
    const loaded = loadUnits(files);
    expect(loaded.get('nightly.timer')?.fields.get('OnCalendar')).toBe('*-*-* 02:30:00');
    expect(loaded.get('nightly.timer')?.fields.get('Persistent')).toBe('yes');
    expect(loaded.get('nightly.timer')?.fields.get('Accuracy')).toBe('1s');
    const argv = execArgv(loaded.get('nightly.service')?.commandLines[0] ?? []);
    expect(argv).toEqual([
      join(bin, 'promfile'),
      'run',
      '--timer',
      'nightly.timer',
      '--job',
      'nightly',
      '--dir',
      textfiles,
      '--timeout',
      '2h',
      '--no-overlap',
      '--label',
      'team=a b',
      '--',
      join(bin, 'job'),
      ...TRICKY,
    ]);

    // Run it as the timer would start it (systemctl answering for the timer): the job gets its
    // arguments unchanged, and the run records systemd's next elapse and a grace that covers the delays.
    // systemd's next 02:30 in UTC, and the random delay it drew (5 minutes of the 15).
    const [calendarNext] = systemdElapses('*-*-* 02:30', 'UTC', new Date().toISOString(), 1) as [number];
    const next = calendarNext + 300_000;
    const stamp = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
    const systemctlPath = await fakeSystemctl(bin, {
      stdout: timerShow({
        unit: 'nightly.timer',
        calendar: '*-*-* 02:30:00',
        calendarNext: stamp(calendarNext),
        next: stamp(next),
        lastTrigger: stamp(calendarNext - 86_400_000),
        randomizedDelay: '15min',
        accuracy: '1s',
      }),
    });
    const ran = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', env: { ...process.env, PATH: systemctlPath, TZ: 'UTC' } });
    expect(ran.stderr).toBe('');
    expect(ran.status).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'job-args'), 'utf8'))).toEqual(TRICKY);
    const families = readExposition(readFileSync(join(textfiles, 'nightly.prom'), 'utf8')).families;
    const value = (name: string): number | undefined =>
      getSeries(families, `promfile_job_${name}`, { job_name: 'nightly', team: 'a b' })?.value;
    expect(value('next_run_timestamp_seconds')).toBe(next / 1000);
    expect(value('grace_seconds')).toBe(8_640 + 900 + 1);
  });

  it('the pair docs/systemd.md shows is what the command above it prints', () => {
    const blocks = fencedBlocks('docs/systemd.md');
    const index = blocks.findIndex((block) => block.language === 'sh' && /^promfile unit /m.test(block.code));
    expect(index).toBeGreaterThanOrEqual(0);
    const shown = blocks[index + 1];
    expect(shown?.language).toBe('ini');
    const result = spawnSync('sh', ['-c', blocks[index]?.code as string], { encoding: 'utf8', env: { ...process.env, PATH } });
    expect(result.stderr).toBe('');
    expect(result.stdout.split(join(bin, 'promfile')).join('/usr/bin/promfile')).toBe(shown?.code);
  });
});

describe.skipIf(!SYSTEMD_ANALYZE)('promfile unit: refusals, one line on stderr and nothing on stdout', () => {
  const refused = (args: string[], pattern: RegExp, status = 2): void => {
    const result = promfile(['unit', ...args], { env: { PATH } });
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(pattern);
    expect(result.stderr.split('\n')).toHaveLength(2);
    expect(result.status).toBe(status);
  };

  it('a calendar expression systemd does not accept, or that never elapses again', () => {
    refused(
      ['x', '--on-calendar', 'Mon..Fry 06:00', '--', '/bin/true'],
      /^promfile: --on-calendar: calendar expression "Mon\.\.Fry 06:00": systemd does not accept it/,
    );
    refused(
      ['x', '--on-calendar', '2001-01-01 00:00', '--', '/bin/true'],
      /^promfile: --on-calendar: calendar expression "2001-01-01 00:00" never elapses again/,
    );
  });

  it('a command without -- before it, whose options promfile would take', () => {
    refused(['x', '--on-calendar', 'daily', '/usr/bin/rsync', '--timeout', '30'], /^promfile: put -- before the command/);
  });

  it('a bad name, a command not on PATH, and run options that promfile run would refuse', () => {
    refused(['x.timer', '--on-calendar', 'daily', '--', '/bin/true'], /^promfile: unit name "x\.timer": .*without \.service or \.timer/);
    refused(['../x', '--on-calendar', 'daily', '--', '/bin/true'], /^promfile: unit name "\.\.\/x": use letters, digits/);
    refused(
      ['x', '--on-calendar', 'daily', '--', 'no-such-command-here'],
      /^promfile: command "no-such-command-here" is not on PATH: give its absolute path/,
    );
    refused(['x', '--on-calendar', 'daily', '--timeout', '2', '--', '/bin/true'], /^promfile: --timeout "2" needs a unit/);
    refused(
      ['x', '--on-calendar', 'daily', '--randomized-delay', 'soon', '--', '/bin/true'],
      /^promfile: --randomized-delay "soon" is not a duration/,
    );
    refused(['x', '--on-calendar', 'daily', '-l', 'job=y', '--', '/bin/true'], /^promfile: -l job=\.\.\.: label "job" is not allowed/);
    refused(['x', '--on-calendar', 'daily', '--force', '--', '/bin/true'], /^promfile: --force needs --write/);
    refused(['x', '--on-calendar', 'daily', '--mode', '644x', '--', '/bin/true'], /^promfile: --mode "644x": expected an octal mode/);
  });

  it('systemd-analyze missing: exit 1, with the hint that names the package', () => {
    // This Node itself, with a PATH that holds nothing (PROMFILE_TEST_NODE's wrapper needs its tools).
    const run = (args: string[]) =>
      spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { PATH: join(dir, 'nowhere') }, timeout: 60_000 });
    const unit = run(['unit', 'x', '--on-calendar', 'daily', '--', '/bin/true']);
    expect(unit.stderr).toBe(
      "promfile: --on-calendar: promfile unit checks the expression with systemd-analyze, which is not installed (systemd-analyze comes with Debian's systemd package)\n",
    );
    expect(unit.status).toBe(1);
    const runJob = run(['run', '--dir', dir, '--job', 'x', '--on-calendar', 'daily', '--', '/bin/true']);
    expect(runJob.stderr).toMatch(
      /^promfile: a systemd calendar expression needs systemd-analyze, which is not installed \(.*\) \(systemd-analyze and systemctl come with Debian's systemd package; --timer also needs systemd running as PID 1.*\)\n$/,
    );
    expect(runJob.status).toBe(1);
  });
});

describe.skipIf(!SYSTEMD_ANALYZE)('promfile unit --write', () => {
  it('writes both files, refuses to overwrite either without --force, and replaces them with it', () => {
    const target = join(dir, 'write-here');
    mkdirSync(target);
    const args = ['unit', 'backup', '--on-calendar', 'daily', '--write', target, '--', '/bin/true'];
    const first = promfile(args, { env: { PATH } });
    expect(first.stdout).toBe('');
    expect(first.stderr).toBe(
      `promfile: wrote ${join(target, 'backup.service')} and ${join(target, 'backup.timer')}; start the timer with: systemctl daemon-reload && systemctl enable --now backup.timer\n`,
    );
    expect(first.status).toBe(0);
    expect(readFileSync(join(target, 'backup.timer'), 'utf8')).toMatch(/^\[Unit\]\n.*\n\n\[Timer\]\nOnCalendar=daily\n/);
    writeFileSync(join(target, 'backup.timer'), 'mine\n');
    const again = promfile([...args.slice(0, 3), 'weekly', ...args.slice(4)], { env: { PATH } });
    expect(again.stderr).toBe(
      `promfile: ${join(target, 'backup.service')} and ${join(target, 'backup.timer')} already exist; nothing was written (--force replaces them)\n`,
    );
    expect(again.status).toBe(1);
    expect(readFileSync(join(target, 'backup.timer'), 'utf8')).toBe('mine\n');
    const forced = promfile([...args.slice(0, 3), 'weekly', '--force', ...args.slice(4)], { env: { PATH } });
    expect(forced.status).toBe(0);
    expect(readFileSync(join(target, 'backup.timer'), 'utf8')).toContain('\nOnCalendar=weekly\n');
    expect(existsSync(join(target, 'backup.service'))).toBe(true);
    const missing = promfile([...args.slice(0, 5), join(dir, 'no-such-dir'), ...args.slice(6)], { env: { PATH } });
    expect(missing.stderr).toBe(
      `promfile: unit directory ${join(dir, 'no-such-dir')} does not exist (create it, or give another with --write=DIR)\n`,
    );
    expect(missing.status).toBe(1);
  });

  it('makes a relative --dir or --file-path absolute: the service runs in /', () => {
    const result = promfile(['unit', 'rel', '--on-calendar', 'daily', '--dir', 'textfiles', '--', '/bin/true'], {
      env: { PATH },
      cwd: dir,
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(` run --timer rel.timer --job rel --dir ${join(dir, 'textfiles')} -- /bin/true\n`);
    const byPath = promfile(['unit', 'rel', '--on-calendar', 'daily', '--file-path', 'x/rel.prom', '--', '/bin/true'], {
      env: { PATH },
      cwd: dir,
    });
    expect(byPath.stdout).toContain(` --file-path ${join(dir, 'x', 'rel.prom')} -- `);
  });
});
