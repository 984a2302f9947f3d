// A label value written without its quotes (`m{origin=security}`, the shell ate them or
// they were never typed): the message shows the corrected series, and that series works.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promfile, tempDir } from '../helpers/cli.js';

describe('an unquoted label value', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir('promfile-quoting-')));
  afterAll(() => cleanup());

  it.each([
    ['m{origin=security}', 'm{origin="security"}', 'one'],
    ['m{a="x",origin=security}', 'm{a="x",origin="security"}', 'two'],
    ['m{origin=security,mount=/var lib}', 'm{origin="security",mount="/var lib"}', 'three'],
  ])('%s: exit 2, nothing written, and the message shows %s, which set then accepts', (given, fixed, file) => {
    const refused = promfile(['set', '--dir', dir, '-f', file, given, '1']);
    expect(refused.status).toBe(2);
    expect(existsSync(join(dir, `${file}.prom`))).toBe(false);
    expect(refused.stderr).toMatch(/^promfile: .*expected '"' at start of the value of label "\w+".*\n$/);
    const suggested = /; write '([^']+)' \(label values in double quotes/.exec(refused.stderr)?.[1];
    expect(suggested).toBe(fixed);
    const accepted = promfile(['set', '--dir', dir, '-f', file, suggested as string, '1']);
    expect(accepted.status, accepted.stderr).toBe(0);
    expect(readFileSync(join(dir, `${file}.prom`), 'utf8')).toContain(`${fixed} 1\n`);
  });

  it('suggests nothing it cannot stand behind: a quote inside the bare value', () => {
    const refused = promfile(['set', '--dir', dir, '-f', 'quoting', 'm{origin=sec"urity}', '1']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).not.toMatch(/; write /);
  });
});
