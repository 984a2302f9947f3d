import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomically } from '../../src/textfile/files.js';
import { tempDir } from '../helpers/cli.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup?.());

describe('writeFileAtomically', () => {
  it('writes chunks of any size in order, across the 1 MiB batches, with multi-byte characters intact', async () => {
    const chunks = Array.from({ length: 5000 }, (_, i) => `m{i="${i}",s="é✓🚀${'x'.repeat(i % 997)}"} ${i}\n`);
    const path = join(dir, 'c.prom');
    await writeFileAtomically(path, chunks);
    const expected = chunks.join('');
    expect(Buffer.byteLength(expected)).toBeGreaterThan(2 * (1 << 20));
    expect(await readFile(path, 'utf8')).toBe(expected);
    expect((await stat(path)).mode & 0o777).toBe(0o644);
    expect(await readdir(dir)).toEqual(['c.prom']);
  });

  it('writes an empty iterable as an empty file', async () => {
    const path = join(dir, 'e.prom');
    await writeFileAtomically(path, []);
    expect(await readFile(path, 'utf8')).toBe('');
  });
});
