import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExpositionError } from '../../src/errors.js';
import { setSeries } from '../../src/format/model.js';
import type { MetricFamily } from '../../src/format/types.js';
import { readFamilies, updateTextfile } from '../../src/textfile/update.js';
import { tempDir } from '../helpers/cli.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup?.());

const set = (name: string, value: number) => (current: MetricFamily[]) => setSeries(current, [{ name, labels: {}, value }]);

describe('updateTextfile', () => {
  it('reads the current families, applies the change and writes the canonical text', async () => {
    const path = join(dir, 'u.prom');
    await writeFile(path, '# HELP a A.\n# TYPE a gauge\na 1\n');
    const result = await updateTextfile(path, set('b', 2));
    expect(result.written).toBe(true);
    expect(await readFile(path, 'utf8')).toBe('# HELP a A.\n# TYPE a gauge\na 1\n# HELP b Written by promfile.\n# TYPE b gauge\nb 2\n');
    expect((await readFamilies(path))?.map((f) => f.name)).toEqual(['a', 'b']);
  });

  it('serializes concurrent updates of one file: none is lost', async () => {
    const path = join(dir, 'c.prom');
    await Promise.all(Array.from({ length: 8 }, (_, i) => updateTextfile(path, set(`m${i}`, i))));
    expect((await readFamilies(path))?.map((f) => f.name)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
  });

  it('refuses a change node_exporter would not take, and keeps the old file byte for byte', async () => {
    const path = join(dir, 'bad.prom');
    const old = '# TYPE a gauge\na 1\n';
    await writeFile(path, old);
    const duplicate = (): MetricFamily[] => [
      {
        name: 'a',
        help: 'A.',
        type: 'gauge',
        samples: [
          { name: 'a', labels: {}, value: 1 },
          { name: 'a', labels: {}, value: 2 },
        ],
      },
    ];
    await expect(updateTextfile(path, duplicate)).rejects.toBeInstanceOf(ExpositionError);
    expect(await readFile(path, 'utf8')).toBe(old);
    expect((await readdir(dir)).filter((name) => !name.startsWith('.'))).toEqual(['bad.prom']);
  });

  it('names the file when the existing content is invalid, and --replace starts from nothing', async () => {
    const path = join(dir, 'broken.prom');
    await writeFile(path, 'a{ 1\n');
    await expect(updateTextfile(path, set('b', 1))).rejects.toThrow(/broken\.prom: line 1: .*the existing file is invalid/);
    await updateTextfile(path, set('b', 1), { replace: true });
    expect((await readFamilies(path))?.map((f) => f.name)).toEqual(['b']);
  });

  it('a dry run returns the content and writes nothing', async () => {
    const path = join(dir, 'dry.prom');
    const result = await updateTextfile(path, set('b', 1), { dryRun: true });
    expect(result).toMatchObject({ written: false, content: '# HELP b Written by promfile.\n# TYPE b gauge\nb 1\n' });
    expect(await readdir(dir)).toEqual([]);
  });
});
