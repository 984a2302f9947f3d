import { describe, expect, it } from 'vitest';
import { readExpositionText } from '../../src/cli/input.js';
import { parseExposition, readExposition } from '../../src/format/parse.js';

async function* chunks(...parts: Array<string | number[]>): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield typeof part === 'string' ? Buffer.from(part) : Uint8Array.from(part);
}

describe('readExpositionText', () => {
  it('decodes characters split across chunks', async () => {
    const rocket = Buffer.from('🚀');
    const text = await readExpositionText(chunks('m{v="', [...rocket.subarray(0, 2)], [...rocket.subarray(2)], '"} 1\n'));
    expect(text).toBe('m{v="🚀"} 1\n');
  });

  it('hands invalid UTF-8 in a later chunk over as the exact bytes, and the parser names its line', async () => {
    const rocket = Buffer.from('🚀');
    const input: Array<string | number[]> = [
      'a 1\nb{r="',
      [...rocket.subarray(0, 3)],
      [...rocket.subarray(3)],
      '"} 2\n',
      [0x63, 0x7b, 0x76, 0x3d, 0x22, 0xff, 0x22, 0x7d, 0x20, 0x31, 0x0a],
    ];
    const bytes = await readExpositionText(chunks(...input));
    const expected = Buffer.concat(input.map((part) => (typeof part === 'string' ? Buffer.from(part) : Uint8Array.from(part))));
    expect(Buffer.from(bytes as Uint8Array).equals(expected)).toBe(true);
    expect(() => parseExposition(bytes, { source: '<stdin>' })).toThrow('<stdin>: line 3: invalid UTF-8 in a sample line');
  });

  it('keeps a truncated character at the end of the input', async () => {
    const bytes = await readExpositionText(chunks('a 1\n', [0xf0, 0x9f]));
    expect([...(bytes as Uint8Array)]).toEqual([...Buffer.from('a 1\n'), 0xf0, 0x9f]);
    expect(readExposition(bytes).problems.map((p) => p.rule)).toContain('invalid-utf8');
  });
});
