// Exposition text from a stream (stdin, a generator's stdout), decoded as it
// arrives: a large valid input is never held as bytes and as text at once.
import { ExpositionError } from '../errors.js';
import { MAX_TEXT_CHARS, parseExposition, tooLargeProblem, type ReadOptions } from '../format/parse.js';
import type { MetricFamily, Problem } from '../format/types.js';

/**
 * Read a stream to a string; when it holds invalid UTF-8, return its bytes
 * instead, for the parser to judge where the bad bytes are (node_exporter
 * only objects to them in a sample line).
 */
export async function readExpositionText(
  stream: AsyncIterable<Uint8Array | string>,
  source = '<stdin>',
  limit = MAX_TEXT_CHARS,
): Promise<string | Uint8Array> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const parts: string[] = [];
  const iterator = stream[Symbol.asyncIterator]();
  // The last bytes read: a character split across chunks waits in the decoder.
  let tail = new Uint8Array(0);
  let total = 0;
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
    const bytes = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    try {
      parts.push(decoder.decode(bytes, { stream: true }));
    } catch {
      return rawBytes(parts, pendingBytes(parts, tail, total), bytes, iterator);
    }
    total += bytes.length;
    tail = Buffer.concat([tail, bytes.subarray(-4)]).subarray(-4);
    // Over V8's string limit the text cannot be held: refused, naming the limit.
    if (total > limit) throw new ExpositionError(tooLargeProblem(limit), source);
  }
  try {
    parts.push(decoder.decode());
  } catch {
    return rawBytes(parts, pendingBytes(parts, tail, total), new Uint8Array(0), iterator);
  }
  return parts.join('');
}

/** The bytes the decoder holds back (an incomplete character at the end of what was read). */
function pendingBytes(parts: readonly string[], tail: Uint8Array, total: number): Uint8Array {
  const decoded = parts.reduce((sum, part) => sum + Buffer.byteLength(part), 0);
  return tail.subarray(tail.length - (total - decoded));
}

/** Everything as bytes: what was decoded, what the decoder held, the chunk that failed, and the rest. */
async function rawBytes(
  parts: readonly string[],
  pending: Uint8Array,
  failed: Uint8Array,
  iterator: AsyncIterator<Uint8Array | string>,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [Buffer.from(parts.join('')), pending, failed];
  for (let next = await iterator.next(); !next.done; next = await iterator.next())
    chunks.push(typeof next.value === 'string' ? Buffer.from(next.value) : next.value);
  return Buffer.concat(chunks);
}

/** Read a stream to bytes. */
export async function readAll(stream: AsyncIterable<Uint8Array | string>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

/**
 * Parse exposition text read from a stream. A last line without its newline
 * means the stream was cut off half-way (a generator killed, a full disk):
 * refused, like node_exporter refuses such a file.
 */
export function parseStreamText(
  text: string | Uint8Array,
  source: string,
  options: ReadOptions & { onNotice?: (notice: Problem) => void } = {},
): MetricFamily[] {
  try {
    return parseExposition(text, { source, ...options });
  } catch (error) {
    if (error instanceof ExpositionError && error.problem.rule === 'missing-final-newline') {
      throw new ExpositionError(
        {
          ...error.problem,
          message: 'the input ends without a newline, so it may be cut off half-way (truncated); nothing was written',
        },
        source,
      );
    }
    throw error;
  }
}

/** True when the input holds nothing at all but blanks: a generator that printed nothing. */
export function isBlankInput(text: string | Uint8Array): boolean {
  return !/\S/.test(typeof text === 'string' ? text : Buffer.from(text).toString('latin1'));
}
