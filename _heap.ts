/** An item of a {@linkcode MinHeap}: ordered by `key`, placed at `index`. */
export interface HeapItem {
  /** The value the heap orders by, smallest first. */
  key: number;
  /** Where the item is in the heap; -1 when it is not in one. */
  index: number;
}

/**
 * A binary min-heap whose items know their own place, so an item can be
 * re-keyed or removed in O(log n) without a search.
 */
export class MinHeap<T extends HeapItem> {
  #items: T[] = [];

  /** How many items the heap holds. */
  get size(): number {
    return this.#items.length;
  }

  /** The item with the smallest key, without removing it. */
  peek(): T | undefined {
    return this.#items[0];
  }

  /** Adds an item that is in no heap. O(log n). */
  push(item: T): void {
    const items = this.#items;
    item.index = items.length;
    items.push(item);
    this.#up(item);
  }

  /** Removes and returns the item with the smallest key. O(log n). */
  pop(): T | undefined {
    const top = this.#items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  /** Removes an item held by this heap. O(log n). */
  remove(item: T): void {
    const items = this.#items;
    const last = items.pop()!;
    if (last !== item) {
      last.index = item.index;
      items[item.index] = last;
      this.#down(last);
      this.#up(last);
    }
    item.index = -1;
  }

  /** Gives an item held by this heap a new key and restores the order. O(log n). */
  rekey(item: T, key: number): void {
    const old = item.key;
    item.key = key;
    if (key < old) this.#up(item);
    else if (key > old) this.#down(item);
  }

  #up(item: T): void {
    const items = this.#items;
    const key = item.key;
    let i = item.index;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = items[parentIndex]!;
      if (parent.key <= key) break;
      parent.index = i;
      items[i] = parent;
      i = parentIndex;
    }
    item.index = i;
    items[i] = item;
  }

  #down(item: T): void {
    const items = this.#items;
    const length = items.length;
    const key = item.key;
    let i = item.index;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= length) break;
      let smallest = items[child]!;
      const right = items[child + 1];
      if (right !== undefined && right.key < smallest.key) {
        smallest = right;
        child++;
      }
      if (smallest.key >= key) break;
      smallest.index = i;
      items[i] = smallest;
      i = child;
    }
    item.index = i;
    items[i] = item;
  }
}
