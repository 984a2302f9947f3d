import { spawnSync } from 'node:child_process';
import { chmod, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listTextfiles } from '../../src/inspect/ls.js';
import { tempDir } from '../helpers/cli.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir('promfile-ls-')));
afterEach(async () => cleanup?.());

describe('listTextfiles', () => {
  it('one row per .prom file in node_exporter order, with series, families, size and mode', async () => {
    const text = '# TYPE x gauge\nx{a="1"} 1\nx{a="2"} 2\n# TYPE y gauge\ny 3\n';
    await writeFile(join(dir, 'b.prom'), text, { mode: 0o644 });
    await writeFile(join(dir, 'a.prom'), '# TYPE z gauge\nz 1\n', { mode: 0o644 });
    await writeFile(join(dir, 'notes.txt'), 'not a textfile');
    const { rows, leftovers } = await listTextfiles(dir, Date.now());
    expect(rows.map((row) => row.name)).toEqual(['a.prom', 'b.prom']);
    expect(rows[1]).toMatchObject({ status: 'ok', series: 3, families: 2, size: Buffer.byteLength(text), mode: '0644' });
    expect(leftovers).toBe(0);
  });

  it('names what is wrong: the first error line and rule, a dangling link, a FIFO, a mode others cannot read', async () => {
    await writeFile(join(dir, 'bad.prom'), '# TYPE x gauge\nx 1\nx 2\n');
    await symlink(join(dir, 'gone'), join(dir, 'dangling.prom'));
    spawnSync('mkfifo', [join(dir, 'fifo.prom')]);
    await writeFile(join(dir, 'secret.prom'), '# TYPE s gauge\ns 1\n');
    await chmod(join(dir, 'secret.prom'), 0o600);
    const rows = Object.fromEntries((await listTextfiles(dir, Date.now())).rows.map((row) => [row.name, row]));
    expect(rows['bad.prom']).toMatchObject({ status: 'invalid', problem: expect.stringMatching(/^line 3: /) });
    expect(rows['dangling.prom']).toMatchObject({ status: 'dangling-symlink', symlinkTo: join(dir, 'gone') });
    expect(rows['fifo.prom']).toMatchObject({ status: 'not-a-file', problem: expect.stringMatching(/FIFO|pipe/i) });
    expect(rows['secret.prom']).toMatchObject({ status: 'unreadable', problem: 'a non-root node_exporter cannot read it' });
  });

  it('counts temp files older than the grace period as leftovers, not young ones', async () => {
    await writeFile(join(dir, 'old.prom.tmp-1'), '');
    await writeFile(join(dir, 'young.prom.tmp-2'), '');
    const hourAgo = (Date.now() - 3_600_000) / 1000;
    await utimes(join(dir, 'old.prom.tmp-1'), hourAgo, hourAgo);
    expect((await listTextfiles(dir, Date.now())).leftovers).toBe(1);
  });
});
