/** Something kept in a `TimerHeap`: it carries its own key and position. */
export interface HeapItem {
  wakeAt: number
  heapIndex: number
}

/**
 * A binary min-heap on `wakeAt`. Items know their index, so moving or
 * removing one is O(log n); the outbox sleeps until the top item is due and
 * costs nothing per idle peer.
 */
export class TimerHeap<T extends HeapItem> {
  private readonly items: T[] = []

  get size(): number {
    return this.items.length
  }

  peek(): T | undefined {
    return this.items[0]
  }

  has(item: T): boolean {
    return item.heapIndex >= 0 && this.items[item.heapIndex] === item
  }

  /** Inserts `item`, or moves it if it is already in the heap. */
  set(item: T, wakeAt: number): void {
    if (this.has(item)) {
      const previous = item.wakeAt
      item.wakeAt = wakeAt
      if (wakeAt < previous) this.up(item.heapIndex)
      else this.down(item.heapIndex)
      return
    }
    item.wakeAt = wakeAt
    item.heapIndex = this.items.length
    this.items.push(item)
    this.up(item.heapIndex)
  }

  clear(): void {
    for (const item of this.items) item.heapIndex = -1
    this.items.length = 0
  }

  pop(): T | undefined {
    const top = this.items[0]
    if (top !== undefined) this.remove(top)
    return top
  }

  remove(item: T): void {
    if (!this.has(item)) return
    const index = item.heapIndex
    const last = this.items.pop() as T
    item.heapIndex = -1
    if (last === item) return
    this.items[index] = last
    last.heapIndex = index
    this.up(index)
    this.down(last.heapIndex)
  }

  private swap(a: number, b: number): void {
    const first = this.items[a] as T
    const second = this.items[b] as T
    this.items[a] = second
    this.items[b] = first
    first.heapIndex = b
    second.heapIndex = a
  }

  private up(index: number): void {
    while (index > 0) {
      const parent = (index - 1) >> 1
      if ((this.items[parent] as T).wakeAt <= (this.items[index] as T).wakeAt) return
      this.swap(parent, index)
      index = parent
    }
  }

  private down(index: number): void {
    for (;;) {
      const left = index * 2 + 1
      const right = left + 1
      let smallest = index
      if (
        left < this.items.length &&
        (this.items[left] as T).wakeAt < (this.items[smallest] as T).wakeAt
      ) {
        smallest = left
      }
      if (
        right < this.items.length &&
        (this.items[right] as T).wakeAt < (this.items[smallest] as T).wakeAt
      ) {
        smallest = right
      }
      if (smallest === index) return
      this.swap(smallest, index)
      index = smallest
    }
  }
}
