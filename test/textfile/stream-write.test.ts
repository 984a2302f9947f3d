// The streaming writer gives the file and the errors the strict path gives,
// whatever order families come in, and leaves nothing behind on failure.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assert, describe, expect, it } from 'vitest';
import { ExpositionError, PromfileError } from '../../src/errors.js';
import { parseExposition } from '../../src/format/parse.js';
import { renderExposition } from '../../src/format/render.js';
import type { Problem } from '../../src/format/types.js';
import { writeExpositionStream } from '../../src/textfile/stream-write.js';
import { tempDir } from '../helpers/cli.js';

/** The text as a stream of small chunks, as stdin delivers it. */
async function* chunks(text: string, size = 5): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

function strictText(text: string): string {
  return renderExposition(parseExposition(text, { allowMissingFinalNewline: true }));
}

async function errorOf(promise: Promise<unknown>): Promise<PromfileError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof PromfileError)) throw new Error(`expected a PromfileError, got ${String(error)}`);
  return error;
}

describe('writeExpositionStream', () => {
  it('writes families in name order, byte for byte as the strict path renders them', async () => {
    const { dir } = await tempDir();
    const path = join(dir, 'w.prom');
    const text = '# HELP z Z.\n# TYPE z gauge\nz{b="1",a="2"} 1.50\n# comment\nb_total 3\n# HELP a A \\\\ b.\n# TYPE a counter\na 1\n';
    const result = await writeExpositionStream(path, chunks(text), { allowMissingFinalNewline: true });
    expect(await readFile(path, 'utf8')).toBe(strictText(text));
    expect(strictText(text).indexOf('# HELP a')).toBe(0);
    expect(result).toMatchObject({ families: 3, series: 3 });
    expect((await readdir(dir)).filter((name) => !name.endsWith('.lock'))).toEqual(['w.prom']);
  });

  it('parses the whole input strictly when a family resumes, recovering what it already wrote', async () => {
    const { dir } = await tempDir();
    const path = join(dir, 'w.prom');
    // b lacks its TYPE (rewritten, so kept in the spool), c is copied as is, then b resumes.
    const text = 'b 1\n# HELP c C.\n# TYPE c gauge\nc 2\na 1.0\nb{x="1"} 2\n';
    const notices: Problem[] = [];
    await writeExpositionStream(path, chunks(text, 3), { onNotice: (notice) => notices.push(notice) });
    expect(await readFile(path, 'utf8')).toBe(strictText(text));
    expect(notices.map((notice) => [notice.rule, notice.line])).toEqual([['non-contiguous', 6]]);
    expect((await readdir(dir)).filter((name) => !name.endsWith('.lock'))).toEqual(['w.prom']);
  });

  it('refuses bad input with the strict error, keeping the old file and leaving no temp file', async () => {
    const { dir } = await tempDir();
    const path = join(dir, 'w.prom');
    await writeFile(path, 'old 1\n');
    const text = `${Array.from({ length: 2000 }, (_, i) => `big{i="${i}"} ${i}`).join('\n')}\nbig{i="7"} 1\nz 1\n`;
    const error = await errorOf(writeExpositionStream(path, chunks(text, 4096), { source: '<stdin>' }));
    let strict: unknown;
    try {
      parseExposition(text, { source: '<stdin>' });
    } catch (caught) {
      strict = caught;
    }
    expect(strict).toBeInstanceOf(ExpositionError);
    assert(strict instanceof ExpositionError);
    expect(error.message).toBe(strict.message);
    expect(error.message).toContain('line 2001: duplicate series big{i="7"}');
    expect(await readFile(path, 'utf8')).toBe('old 1\n');
    expect((await readdir(dir)).filter((name) => !name.endsWith('.lock'))).toEqual(['w.prom']);
  });

  it('refuses input without samples unless allowed', async () => {
    const { dir } = await tempDir();
    const path = join(dir, 'w.prom');
    expect((await errorOf(writeExpositionStream(path, chunks('# just a comment\n')))).message).toMatch(/nothing to write/);
    await writeExpositionStream(path, chunks('# HELP a A.\n'), { allowEmpty: true });
    expect(await readFile(path, 'utf8')).toBe('');
  });

  it('reports bad input before a missing directory, as when the input was read first', async () => {
    const dir = join((await tempDir()).dir, 'missing');
    const path = join(dir, 'w.prom');
    expect((await errorOf(writeExpositionStream(path, chunks('a 1\na 1\n')))).code).toBe('ERR_INVALID_EXPOSITION');
    expect((await errorOf(writeExpositionStream(path, chunks('a 1\n')))).code).toBe('ERR_DIR_MISSING');
  });
});
