import { describe, expect, it } from 'vitest';
import { readExpositionText } from '../../src/cli/input.js';

async function* chunks(...parts: Array<string | number[]>): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield typeof part === 'string' ? Buffer.from(part) : Uint8Array.from(part);
}

describe('readExpositionText', () => {
  it('decodes characters split across chunks', async () => {
    const rocket = Buffer.from('🚀');
    const text = await readExpositionText(chunks('m{v="', [...rocket.subarray(0, 2)], [...rocket.subarray(2)], '"} 1\n'));
    expect(text).toBe('m{v="🚀"} 1\n');
  });

  it('names the line of invalid UTF-8 in a later chunk', async () => {
    await expect(
      readExpositionText(chunks('a 1\nb 2\n', 'x 1\n', [0x63, 0x7b, 0x76, 0x3d, 0x22, 0xff, 0x22, 0x7d, 0x20, 0x31, 0x0a])),
    ).rejects.toMatchObject({
      code: 'ERR_INVALID_EXPOSITION',
      message: '<stdin>: line 4: invalid UTF-8',
    });
  });

  it('reports a truncated character at the end of the input', async () => {
    await expect(readExpositionText(chunks('a 1\n', [0xf0, 0x9f]))).rejects.toMatchObject({ code: 'ERR_INVALID_EXPOSITION' });
  });
});
