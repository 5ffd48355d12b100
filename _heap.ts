/**
 * A binary min-heap of slots: small whole numbers that name items kept
 * elsewhere, each with a key to order by. Keys and places are kept in typed
 * arrays, so ordering touches no object, and the heap knows where each slot
 * is, so a slot can be re-keyed or removed in O(log n) without a search.
 */
export class SlotHeap {
  /** The slot at each place. */
  #slots: Int32Array;
  /** The key at each place. */
  #keys: Float64Array;
  /** The place of each slot; -1 when the slot is not in the heap. */
  #at: Int32Array;
  #size = 0;

  /** Creates an empty heap for slots numbered below `capacity`. */
  constructor(capacity: number) {
    this.#slots = new Int32Array(capacity);
    this.#keys = new Float64Array(capacity);
    this.#at = new Int32Array(capacity).fill(-1);
  }

  /** How many slots the heap holds. */
  get size(): number {
    return this.#size;
  }

  /**
   * Makes room for slots numbered below `capacity`; every slot held must be
   * numbered below it. O(capacity).
   */
  resize(capacity: number): void {
    const size = this.#size;
    const slots = new Int32Array(capacity);
    slots.set(this.#slots.subarray(0, size));
    const keys = new Float64Array(capacity);
    keys.set(this.#keys.subarray(0, size));
    const at = new Int32Array(capacity).fill(-1);
    for (let i = 0; i < size; i++) at[slots[i]!] = i;
    this.#slots = slots;
    this.#keys = keys;
    this.#at = at;
  }

  /** The slot with the smallest key, or -1 when the heap is empty. */
  peek(): number {
    return this.#size === 0 ? -1 : this.#slots[0]!;
  }

  /** The smallest key, or `Infinity` when the heap is empty. */
  peekKey(): number {
    return this.#size === 0 ? Infinity : this.#keys[0]!;
  }

  /** The key of a slot the heap holds. */
  keyOf(slot: number): number {
    return this.#keys[this.#at[slot]!]!;
  }

  /** Adds a slot that is not in the heap. O(log n). */
  push(slot: number, key: number): void {
    this.#up(this.#size++, slot, key);
  }

  /** Removes a slot the heap holds. O(log n). */
  remove(slot: number): void {
    const i = this.#at[slot]!;
    this.#at[slot] = -1;
    const last = --this.#size;
    if (i === last) return;
    const moved = this.#slots[last]!;
    const key = this.#keys[last]!;
    if (i > 0 && key < this.#keys[(i - 1) >> 1]!) this.#up(i, moved, key);
    else this.#down(i, moved, key);
  }

  /** Gives a slot the heap holds a new key and restores the order. O(log n). */
  rekey(slot: number, key: number): void {
    const i = this.#at[slot]!;
    if (key < this.#keys[i]!) this.#up(i, slot, key);
    else this.#down(i, slot, key);
  }

  /**
   * Renumbers slot `from` as `to`, which must not be in the heap; `from`
   * need not be in it either. O(1).
   */
  rename(from: number, to: number): void {
    const i = this.#at[from]!;
    this.#at[from] = -1;
    this.#at[to] = i;
    if (i >= 0) this.#slots[i] = to;
  }

  /** Puts `slot` with `key` at place `i` or above it. */
  #up(i: number, slot: number, key: number): void {
    const slots = this.#slots, keys = this.#keys;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (keys[parent]! <= key) break;
      this.#place(i, slots[parent]!, keys[parent]!);
      i = parent;
    }
    this.#place(i, slot, key);
  }

  /** Puts `slot` with `key` at place `i` or below it. */
  #down(i: number, slot: number, key: number): void {
    const slots = this.#slots, keys = this.#keys;
    const size = this.#size;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && keys[child + 1]! < keys[child]!) child++;
      if (keys[child]! >= key) break;
      this.#place(i, slots[child]!, keys[child]!);
      i = child;
    }
    this.#place(i, slot, key);
  }

  #place(i: number, slot: number, key: number): void {
    this.#slots[i] = slot;
    this.#keys[i] = key;
    this.#at[slot] = i;
  }
}
