// Input fed in chunks, cut into runs of whole lines: one home for the line a
// chunk's end cuts, for the strict parser and the fast path alike.
import { Byte } from './lex.js';

/**
 * Reads whole lines `buf[start, end)` (the last may lack its newline: the
 * input ended) and returns where it stopped reading: `end`, or the start of
 * the line from which it wants no more of the input.
 */
export type ReadLines = (buf: Buffer, start: number, end: number) => number;

export function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
}

export class ChunkLines {
  /** An unfinished line's pieces, joined once its newline (or the end) comes: joining per chunk made a long line quadratic. */
  private carry: Buffer[] | undefined;

  /** `copyCarry`: the caller refills a chunk once push returns, so the line it cuts is copied. */
  constructor(
    private readonly read: ReadLines,
    private readonly copyCarry = false,
  ) {}

  /** Feed a chunk; the input from where `read` stopped, or undefined while it reads on. */
  push(chunk: Uint8Array): Buffer[] | undefined {
    const buf = asBuffer(chunk);
    let start = 0;
    if (this.carry !== undefined) {
      const newline = buf.indexOf(Byte.Newline);
      if (newline === -1) {
        this.carry.push(this.copyCarry ? Buffer.from(buf) : buf);
        return undefined;
      }
      const line = Buffer.concat([...this.carry, buf.subarray(0, newline + 1)]);
      this.carry = undefined;
      start = newline + 1;
      const stop = this.read(line, 0, line.length);
      if (stop < line.length) return [line.subarray(stop), buf.subarray(start)];
    }
    const last = buf.lastIndexOf(Byte.Newline);
    if (last >= start) {
      const stop = this.read(buf, start, last + 1);
      if (stop <= last) return [buf.subarray(stop)];
      start = last + 1;
    }
    if (start < buf.length) this.carry = [this.copyCarry ? Buffer.from(buf.subarray(start)) : buf.subarray(start)];
    return undefined;
  }

  /** The input ended: its last line, when it lacks a newline; what `read` did not read of it. */
  end(): Buffer[] | undefined {
    if (this.carry === undefined) return undefined;
    const tail = Buffer.concat(this.carry);
    this.carry = undefined;
    const stop = this.read(tail, 0, tail.length);
    return stop < tail.length ? [tail.subarray(stop)] : undefined;
  }
}
