// The set of series keys seen in one family, for the byte-level fast path:
// open addressing over two 32-bit hashes of the key bytes, in one Int32Array.
// No string per series; 8 bytes per slot at a load of at most one half.
//
// A hit is not proof of a duplicate (the key bytes are not kept): the caller
// hands the family to the strict parser, which decides. With 64 bits of hash
// a false hit is vanishingly rare, and costs time, never correctness.

const MIN_SLOTS = 1 << 10;
/** Above this many slots, a table left mostly empty by the last family is reallocated small. */
const SHRINK_SLOTS = 1 << 16;

export class SeriesTable {
  private slots = new Int32Array(MIN_SLOTS * 2);
  private mask = MIN_SLOTS - 1;
  private count = 0;

  /** Forget every key (a new family starts). */
  clear(): void {
    if (this.count === 0) return;
    if (this.slots.length / 2 > SHRINK_SLOTS && this.count * 8 < this.slots.length / 2) this.allocate(MIN_SLOTS);
    else this.slots.fill(0);
    this.count = 0;
  }

  /** Add a key by its two hashes; false when a key with the same hashes is there already. */
  add(high: number, low: number): boolean {
    // (0, 0) marks an empty slot, so a key never hashes to it.
    const h = high | 1;
    const l = low | 0; // as the Int32Array stores it
    let slot = (l ^ Math.imul(h, 0x9e3779b1)) & this.mask;
    const { slots } = this;
    for (;;) {
      const at = slot * 2;
      const stored = slots[at] as number;
      if (stored === 0) {
        slots[at] = h;
        slots[at + 1] = l;
        if (++this.count * 2 > this.mask + 1) this.grow();
        return true;
      }
      if (stored === h && slots[at + 1] === l) return false;
      slot = (slot + 1) & this.mask;
    }
  }

  private allocate(size: number): void {
    this.slots = new Int32Array(size * 2);
    this.mask = size - 1;
  }

  private grow(): void {
    const old = this.slots;
    this.allocate((this.mask + 1) * 2);
    this.count = 0;
    for (let at = 0; at < old.length; at += 2) {
      const h = old[at] as number;
      if (h !== 0) this.add(h, old[at + 1] as number);
    }
  }
}
