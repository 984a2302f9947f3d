// Output of the fast path as views into the input: consecutive ranges of one
// input buffer join into one view, so a canonical family becomes a handful of
// subarrays and is never copied until it is written.

export class ByteRuns {
  private parts: Uint8Array[] = [];
  private buffer: Uint8Array | undefined;
  private start = 0;
  private end = 0;
  private settled = 0;
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
    this.settled = 0;
    this.size = 0;
    return parts;
  }

  /** Replace the views into `source` by copies: its owner is about to reuse it. */
  copyFrom(source: Uint8Array): void {
    this.flush();
    // Parts before `settled` were looked at when the previous chunk was released.
    for (let i = this.settled; i < this.parts.length; i++) {
      const part = this.parts[i] as Uint8Array;
      if (part.buffer === source.buffer) this.parts[i] = Buffer.from(part);
    }
    this.settled = this.parts.length;
  }

  private flush(): void {
    if (this.buffer !== undefined && this.end > this.start) this.parts.push(this.buffer.subarray(this.start, this.end));
    this.buffer = undefined;
  }
}
