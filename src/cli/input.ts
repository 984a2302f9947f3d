// Exposition text from a stream (stdin, a generator's stdout), decoded as it
// arrives: a large input is never held as bytes and as text at once.
import { ExpositionError } from '../errors.js';
import { firstInvalidUtf8Line, MAX_TEXT_CHARS, parseExposition, tooLargeProblem } from '../format/parse.js';
import type { MetricFamily, Problem } from '../format/types.js';

/** Read a stream to a string; invalid UTF-8 is an ExpositionError naming its line. */
export async function readExpositionText(
  stream: AsyncIterable<Uint8Array | string>,
  source = '<stdin>',
  limit = MAX_TEXT_CHARS,
): Promise<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const parts: string[] = [];
  let length = 0;
  const invalid = (bytes: Uint8Array): ExpositionError => {
    // Lines before this chunk, plus the line of the bad bytes within it.
    const before = countNewlines(parts);
    return new ExpositionError(
      { severity: 'error', rule: 'invalid-utf8', message: 'invalid UTF-8', line: before + firstInvalidUtf8Line(bytes), wholeFile: true },
      source,
    );
  };
  const push = (text: string): void => {
    length += text.length;
    if (length > limit) throw new ExpositionError(tooLargeProblem(limit), source);
    parts.push(text);
  };
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let text: string;
    try {
      text = decoder.decode(bytes, { stream: true });
    } catch {
      throw invalid(bytes);
    }
    push(text);
  }
  try {
    push(decoder.decode());
  } catch (error) {
    if (error instanceof ExpositionError) throw error;
    throw invalid(new Uint8Array([0xff]));
  }
  return parts.join('');
}

/**
 * Parse exposition text read from a stream. A last line without its newline
 * means the stream was cut off half-way (a generator killed, a full disk):
 * refused, like node_exporter refuses such a file.
 */
export function parseStreamText(
  text: string,
  source: string,
  options: { stripTimestamps?: boolean; onNotice?: (notice: Problem) => void } = {},
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
export function isBlankInput(text: string): boolean {
  return !/\S/.test(text);
}

function countNewlines(parts: readonly string[]): number {
  let count = 0;
  for (const part of parts) for (let i = part.indexOf('\n'); i !== -1; i = part.indexOf('\n', i + 1)) count++;
  return count;
}
