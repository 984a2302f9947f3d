import { spawnSync } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readRegularFileChunks, writeFileAtomically } from '../../src/textfile/files.js';
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

describe('readRegularFileChunks', () => {
  it('hands over the whole file in order, in chunks of one reused pair of buffers', async () => {
    const path = join(dir, 'big.prom');
    const bytes = Buffer.from(Array.from({ length: 120_000 }, (_, i) => `m{i="${i}"} ${i}\n`).join(''));
    expect(bytes.length).toBeGreaterThan(2 * (1 << 20) + 1);
    await writeFile(path, bytes);
    const copies: Buffer[] = [];
    const buffers = new Set<ArrayBufferLike>();
    await readRegularFileChunks(path, { follow: true }, (chunk) => {
      copies.push(Buffer.from(chunk));
      buffers.add(chunk.buffer);
      return true;
    });
    expect(Buffer.concat(copies).equals(bytes)).toBe(true);
    expect(copies.length).toBeGreaterThan(2);
    expect(buffers.size).toBe(2);
  });

  it('stops reading when told to', async () => {
    const path = join(dir, 'big.prom');
    await writeFile(path, Buffer.alloc(3 << 20, 0x61));
    let calls = 0;
    await readRegularFileChunks(path, { follow: true }, () => ++calls < 2);
    expect(calls).toBe(2);
  });

  it('refuses a FIFO without waiting for a writer', async () => {
    const path = join(dir, 'fifo.prom');
    spawnSync('mkfifo', [path]);
    await expect(readRegularFileChunks(path, { follow: true }, () => true)).rejects.toMatchObject({
      code: 'ERR_UNSAFE_TARGET',
      message: expect.stringMatching(/is a FIFO, not a regular file/),
    });
  });
});
