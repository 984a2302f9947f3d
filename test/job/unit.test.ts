// The unit files `promfile unit` writes, judged by systemd itself: the manager's
// own parser (`systemd --test`) must turn each ExecStart= back into exactly the
// argv it was made from, and `systemd-analyze verify` must accept the units.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { execLine, execWord, systemdTimespan, timerJobUnits, unitsText, writeUnitFiles } from '../../src/job/unit.js';
import { tempDir } from '../helpers/cli.js';
import { execArgv, loadUnits, SYSTEMD_ANALYZE, SYSTEMD_MANAGER, verifyUnits } from '../helpers/systemd-units.js';

/** Arguments that each break a naive quoting: systemd's splitter, C escapes, specifiers, variables, `;`. */
const TRICKY = [
  'plain',
  'a b',
  '  two  spaces  ',
  '',
  ';',
  '\\;',
  'a;b',
  "it's",
  '"quoted"',
  '\\',
  'back\\slash',
  'trailing\\',
  '\\n is not a newline',
  '\\x41',
  '$HOME',
  '${HOME}',
  '$$',
  '$1',
  '100%',
  '%n',
  '%%',
  '%i%',
  'tab\there',
  'new\nline',
  'cr\rhere',
  '\u0001\u001f\u007f',
  'ünïcödé €',
  '😀',
  '#not a comment',
  '-x',
  '--opt=value with space',
  '`date`',
  '*?[a]~',
  'mixed \'single\' "double" $VAR %n \\ ;',
];

/** Strings made of the characters that matter to systemd's parser, and any others. */
const ARGUMENT = fc.string({
  unit: fc.oneof(
    fc.constantFrom(...' \\"\'$%;{}\n\t\r\u0001\u007f#`*=@'),
    fc.constantFrom('a', 'Z', '0', '-', '/', '.'),
    fc.string({ unit: 'grapheme', maxLength: 1 }),
  ),
  maxLength: 16,
});

const ECHO = '/bin/echo';

describe.skipIf(!SYSTEMD_MANAGER || !SYSTEMD_ANALYZE)('ExecStart=, as systemd parses it', () => {
  const randomArgvs = fc.sample(fc.array(ARGUMENT, { minLength: 1, maxLength: 4 }), { numRuns: 150, seed: 20261205 });
  const argvs: string[][] = [...TRICKY.map((arg) => [arg]), TRICKY, ...randomArgvs];
  const files = Object.fromEntries(
    argvs.map((args, i) => [`t${i}.service`, `[Service]\nType=oneshot\nExecStart=${execLine([ECHO, ...args])}\n`]),
  );

  it('turns every quoted command line back into the argv it was made from', () => {
    const loaded = loadUnits(files);
    argvs.forEach((args, i) => {
      const unit = loaded.get(`t${i}.service`);
      expect(unit?.loadState, `t${i}: ${JSON.stringify(args)}`).toBe('loaded');
      expect(unit?.commandLines.length).toBe(1);
      expect(execArgv(unit?.commandLines[0] ?? []), `t${i}: ${files[`t${i}.service`]}`).toEqual([ECHO, ...args]);
    });
  });

  it('a naive quoting would not survive: the oracle sees %, $ and ; as systemd does', () => {
    const naive = (args: string[]): string => args.map((arg) => `"${arg.replace(/[\\"]/g, '\\$&')}"`).join(' ');
    const loaded = loadUnits({ 'naive.service': `[Service]\nType=oneshot\nExecStart=${ECHO} ${naive(['%n', '$$HOME'])} ;\n` });
    expect(execArgv(loaded.get('naive.service')?.commandLines[0] ?? [])).toEqual([ECHO, 'naive.service', '$HOME']);
  });

  it('an executable path with spaces and % reaches systemd as it is', () => {
    const argv = ['/opt/my tools/100%/backup', 'a b'];
    const loaded = loadUnits({ 'path.service': `[Service]\nType=oneshot\nExecStart=${execLine(argv)}\n` });
    expect(loaded.get('path.service')?.loadState).toBe('loaded');
    expect(execArgv(loaded.get('path.service')?.commandLines[0] ?? [])).toEqual(argv);
  });

  it('systemd-analyze verify accepts every unit', async () => {
    const { dir, cleanup } = await tempDir('promfile-verify-');
    try {
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
      const result = verifyUnits(Object.keys(files).map((name) => join(dir, name)));
      expect(result.output).toBe('');
      expect(result.status).toBe(0);
    } finally {
      await cleanup();
    }
  });
});

describe('execWord and execLine', () => {
  it('leaves plain words alone and quotes the rest, doubling % and $', () => {
    expect(execWord('/usr/local/sbin/backup.sh')).toBe('/usr/local/sbin/backup.sh');
    expect(execWord('--label=team=ops')).toBe('--label=team=ops');
    expect(execWord('')).toBe('""');
    expect(execWord(';')).toBe('";"');
    expect(execWord('100% of $HOME')).toBe('"100%% of $$HOME"');
    expect(execWord('a "b" \\c')).toBe('"a \\"b\\" \\\\c"');
    expect(execWord('line\nbreak\u0001')).toBe('"line\\nbreak\\x01"');
  });

  it('refuses a NUL byte, and a first word that is not an absolute path systemd can take', () => {
    expect(() => execWord('a\u0000b')).toThrow(/NUL/);
    expect(() => execLine(['promfile', 'run'])).toThrow(/absolute path/);
    expect(() => execLine(['/opt/"x"/promfile'])).toThrow(/absolute path/);
    expect(() => execLine(['/opt/$x/promfile'])).toThrow(/absolute path/);
    expect(() => execLine([])).toThrow(/absolute path/);
  });
});

describe.skipIf(!SYSTEMD_ANALYZE)('systemdTimespan', () => {
  it.each([0, 1, 500, 1000, 59_000, 60_000, 90_000, 900_000, 5_400_000, 86_400_000, 90_061_001, 604_800_000 * 2 + 1, 0.5, 1.25])(
    '%s ms is what systemd-analyze timespan reads',
    (ms) => {
      const text = systemdTimespan(ms);
      const result = spawnSync(SYSTEMD_ANALYZE as string, ['timespan', text], { encoding: 'utf8' });
      expect(result.status).toBe(0);
      expect(/μs: (\d+)/.exec(result.stdout)?.[1]).toBe(String(Math.round(ms * 1000)));
    },
  );
});

describe('the pair', () => {
  const spec = {
    name: 'backup',
    onCalendar: '*-*-* 02:30',
    randomizedDelayMs: 900_000,
    accuracyMs: 1000,
    persistent: true,
    execStart: ['/usr/bin/promfile', 'run', '--timer', 'backup.timer', '--job', 'backup', '--', '/usr/local/sbin/backup.sh', '100%'],
  };

  it.skipIf(!SYSTEMD_MANAGER)('loads as systemd reads it: the timer starts the service, with the schedule and delays given', () => {
    const [service, timer] = timerJobUnits(spec);
    expect([service.name, timer.name]).toEqual(['backup.service', 'backup.timer']);
    const loaded = loadUnits({ [service.name]: service.text, [timer.name]: timer.text });
    const timerUnit = loaded.get('backup.timer');
    expect(timerUnit?.loadState).toBe('loaded');
    expect(timerUnit?.fields.get('OnCalendar')).toBe('*-*-* 02:30:00');
    expect(timerUnit?.fields.get('Unit')).toBe('backup.service');
    expect(timerUnit?.fields.get('Persistent')).toBe('yes');
    expect(timerUnit?.fields.get('Accuracy')).toBe('1s');
    expect(timer.text).toContain('RandomizedDelaySec=15min\n');
    expect(loaded.get('backup.service')?.loadState).toBe('loaded');
    expect(execArgv(loaded.get('backup.service')?.commandLines[0] ?? [])).toEqual(spec.execStart);
  });

  it('leaves out what was not given, and refuses a calendar expression that would break the file', () => {
    const [, timer] = timerJobUnits({ name: 'x', onCalendar: 'daily', execStart: ['/bin/true'] });
    expect(timer.text).not.toMatch(/RandomizedDelaySec|AccuracySec|Persistent/);
    expect(() => timerJobUnits({ name: 'x', onCalendar: 'daily\n[Service]', execStart: ['/bin/true'] })).toThrow(/line break/);
  });

  it('prints each unit under a comment naming its path', () => {
    const text = unitsText(timerJobUnits(spec), '/etc/systemd/system');
    expect(text).toMatch(/^# \/etc\/systemd\/system\/backup\.service\n\[Unit\]/);
    expect(text).toContain('\n# /etc/systemd/system/backup.timer\n[Unit]\n');
  });

  it('writes both atomically, and without force writes neither when one exists', async () => {
    const { dir, cleanup } = await tempDir('promfile-unitdir-');
    try {
      const units = timerJobUnits(spec);
      expect(await writeUnitFiles(dir, units)).toEqual([join(dir, 'backup.service'), join(dir, 'backup.timer')]);
      expect(readFileSync(join(dir, 'backup.timer'), 'utf8')).toBe(units[1].text);
      writeFileSync(join(dir, 'backup.timer'), 'mine\n');
      const other = timerJobUnits({ ...spec, onCalendar: 'daily' });
      await expect(writeUnitFiles(dir, other)).rejects.toThrow(/backup\.service and .*backup\.timer already exist; nothing was written/);
      expect(readFileSync(join(dir, 'backup.timer'), 'utf8')).toBe('mine\n');
      await writeUnitFiles(dir, other, { force: true });
      expect(readFileSync(join(dir, 'backup.timer'), 'utf8')).toBe(other[1].text);
      expect(readdirSync(dir).sort()).toEqual(['backup.service', 'backup.timer']);
    } finally {
      await cleanup();
    }
  });

  it('reaches the directory without following a link on its path, as a textfile directory is', async () => {
    const { dir, cleanup } = await tempDir('promfile-unitdir-');
    try {
      mkdirSync(join(dir, 'elsewhere', 'system'), { recursive: true });
      symlinkSync(join(dir, 'elsewhere'), join(dir, 'etc'));
      const through = join(dir, 'etc', 'system');
      await expect(writeUnitFiles(through, timerJobUnits(spec))).rejects.toMatchObject({
        code: 'ERR_UNSAFE_TARGET',
        message: expect.stringMatching(/^.*\/etc is a symbolic link: promfile reaches the unit directory without following links/),
      });
      expect(readdirSync(join(dir, 'elsewhere', 'system'))).toEqual([]);
      await expect(writeUnitFiles(join(dir, 'none'), timerJobUnits(spec))).rejects.toThrow(
        `unit directory ${join(dir, 'none')} does not exist`,
      );
    } finally {
      await cleanup();
    }
  });
});
