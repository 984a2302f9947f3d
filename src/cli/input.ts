// Exposition text from a stream (stdin), decoded as it arrives: a large
// valid input is never held as bytes and as text at once.

/**
 * Read a stream to a string; when it holds invalid UTF-8, return its bytes
 * instead, for the parser to judge where the bad bytes are (node_exporter
 * only objects to them in a sample line).
 */
export async function readExpositionText(stream: AsyncIterable<Uint8Array | string>): Promise<string | Uint8Array> {
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
