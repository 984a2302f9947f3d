// Input over V8's string limit (about 512 MiB) cannot be held as text: it is
// refused with the limit named, never "internal error: Invalid string length"
// (exit 70) nor "invalid UTF-8".
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readExpositionText } from '../../src/cli/input.js';
import { ExpositionError } from '../../src/errors.js';
import { parseJobMetrics } from '../../src/job/metrics.js';
import { MAX_TEXT_CHARS, parseExposition } from '../../src/format/parse.js';
import { promfileAsync, tempDir } from '../helpers/cli.js';

const LIMIT_MESSAGE = /larger than 511 MiB of text \(536870888 characters\), the most promfile can hold/;

describe('input over the string limit', () => {
  it('bytes that decode to more characters than V8 holds: too-large, not invalid UTF-8', () => {
    const bytes = Buffer.alloc(MAX_TEXT_CHARS + 1, 0x61);
    expect(() => parseExposition(bytes)).toThrow(expect.objectContaining({ problem: expect.objectContaining({ rule: 'too-large' }) }));
    // The path of a job's $PROMFILE_METRICS file.
    expect(() => parseJobMetrics(bytes, { job_name: 'j' })).toThrow(LIMIT_MESSAGE);
  }, 60_000);

  it('a stream over the limit is refused as it arrives, lines or one long line alike', async () => {
    const lines = Readable.from(Array.from({ length: 100 }, () => Buffer.from('m 1\n')));
    await expect(readExpositionText(lines, '<stdin>', 200)).rejects.toThrow(/^<stdin>: larger than 0 MiB of text \(200 characters\)/);
    const oneLine = Readable.from(Array.from({ length: 100 }, () => Buffer.from('aaaa')));
    await expect(readExpositionText(oneLine, '<stdin>', 200)).rejects.toBeInstanceOf(ExpositionError);
    const fits = Readable.from([Buffer.from('m 1\n')]);
    expect(await readExpositionText(fits, '<stdin>', 200)).toBe('m 1\n');
  });

  it('write -- GENERATOR printing 560 MB: exit 2 naming the limit, nothing written', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const result = await promfileAsync(['write', '--dir', dir, '-f', 'big', '--', 'head', '-c', '560000000', '/dev/zero']);
      expect(result.stderr).toMatch(LIMIT_MESSAGE);
      expect(result.stderr).not.toMatch(/internal error|invalid UTF-8/);
      expect(result.status).toBe(2);
    } finally {
      await cleanup();
    }
  }, 120_000);
});
