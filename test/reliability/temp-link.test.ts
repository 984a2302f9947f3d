// A symlink planted at the temp file's name must not be followed: whoever can
// create files in the textfile directory would otherwise make promfile (often
// root) overwrite and chmod any file. The temp name is random; here it is
// fixed so the link can be planted exactly where the writer will open.
import { lstatSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { writeFileAtomically } from '../../src/textfile/files.js';
import { tempDir } from '../helpers/cli.js';

vi.mock('../../src/textfile/temp-name.js', () => ({ uniqueSuffix: () => 'ab'.repeat(6) }));

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup?.());

describe('temp file', () => {
  it('is named <target>.tmp-<random>, which node_exporter ignores', async () => {
    const target = join(dir, 't.prom');
    const link = `${target}.tmp-${'ab'.repeat(6)}`;
    // With the name fixed, a first write shows where the temp file goes: nothing is left there.
    await writeFileAtomically(target, 'm 1\n');
    expect(readdirSync(dir)).toEqual(['t.prom']);
    expect(link.endsWith('.prom')).toBe(false);
  });

  it('a symlink planted at the temp name is not followed: the write fails and the victim stays', async () => {
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious data\n', { mode: 0o600 });
    const target = join(dir, 't.prom');
    writeFileSync(target, 'old 1\n');
    const link = `${target}.tmp-${'ab'.repeat(6)}`;
    symlinkSync(victim, link);
    await expect(writeFileAtomically(target, 'security_temp_link 1\n')).rejects.toMatchObject({ code: 'ERR_WRITE_FAILED' });
    expect(readFileSync(victim, 'utf8')).toBe('precious data\n');
    expect(statSync(victim).mode & 0o777).toBe(0o600);
    expect(lstatSync(target).isSymbolicLink()).toBe(false);
    expect(readFileSync(target, 'utf8')).toBe('old 1\n');
    expect(lstatSync(link).isSymbolicLink()).toBe(true); // the planted link is not ours to remove
  });
});
