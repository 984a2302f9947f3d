// Output of the fast path as views into the input: consecutive ranges of one
// input buffer join into one view, so a canonical family becomes a handful of
// subarrays and is never copied until it is written.

export class ByteRuns {
  private parts: Uint8Array[] = [];
  private buffer: Uint8Array | undefined;
  private start = 0;
  private end = 0;
  /** Bytes held. */
  size = 0;

  /** Append `buffer[start, end)`. */
  add(buffer: Uint8Array, start: number, end: number): void {
    if (buffer === this.buffer && start === this.end) this.end = end;
    else {
      this.flush();
      this.buffer = buffer;
      this.start = start;
      this.end = end;
    }
    this.size += end - start;
  }

  /** Append bytes made for the output (a rewritten value, a TYPE line the input lacked). */
  addBytes(bytes: Uint8Array): void {
    this.flush();
    this.parts.push(bytes);
    this.size += bytes.length;
  }

  /** Everything appended, and start again empty. */
  take(): Uint8Array[] {
    this.flush();
    const parts = this.parts;
    this.parts = [];
    this.size = 0;
    return parts;
  }

  private flush(): void {
    if (this.buffer !== undefined && this.end > this.start) this.parts.push(this.buffer.subarray(this.start, this.end));
    this.buffer = undefined;
  }
}
