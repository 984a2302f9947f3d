// Exposition text from a stream (stdin), decoded as it arrives: a large
// input is never held as bytes and as text at once.
import { ExpositionError } from '../errors.js';
import { firstInvalidUtf8Line } from '../format/parse.js';

/** Read a stream to a string; invalid UTF-8 is an ExpositionError naming its line. */
export async function readExpositionText(stream: AsyncIterable<Uint8Array | string>, source = '<stdin>'): Promise<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const parts: string[] = [];
  const invalid = (bytes: Uint8Array): ExpositionError => {
    // Lines before this chunk, plus the line of the bad bytes within it.
    const before = countNewlines(parts);
    return new ExpositionError(
      { severity: 'error', rule: 'invalid-utf8', message: 'invalid UTF-8', line: before + firstInvalidUtf8Line(bytes), wholeFile: true },
      source,
    );
  };
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    try {
      parts.push(decoder.decode(bytes, { stream: true }));
    } catch {
      throw invalid(bytes);
    }
  }
  try {
    parts.push(decoder.decode());
  } catch {
    throw invalid(new Uint8Array([0xff]));
  }
  return parts.join('');
}

function countNewlines(parts: readonly string[]): number {
  let count = 0;
  for (const part of parts) for (let i = part.indexOf('\n'); i !== -1; i = part.indexOf('\n', i + 1)) count++;
  return count;
}

/** Read a stream to bytes. */
export async function readAll(stream: AsyncIterable<Uint8Array | string>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}
