import type { Entry } from '@dntkit/core'

/** What `QueuedEntries` reports as it changes. */
export interface QueuedEntriesListener {
  /** A peer got its first waiting entry (`true`) or lost its last one (`false`). */
  peer?(peer: string, queued: boolean): void
  /** The number of waiting entries of a level changed. */
  level?(level: string, count: number): void
}

/**
 * The entries waiting in an outbox after a failed attempt, kept from its
 * events (`queued` adds, `delivered` / `abandoned` / `expired` remove), with
 * counts per peer and per level, so that peer tags and metrics cost O(1) per
 * event instead of a scan of the queue.
 */
export class QueuedEntries {
  private readonly entries = new Map<string, { peer: string; level: string }>()
  private readonly peers = new Map<string, number>()
  private readonly levels = new Map<string, number>()

  constructor(private readonly listener: QueuedEntriesListener) {}

  hasPeer(peer: string): boolean {
    return this.peers.has(peer)
  }

  add(entry: Pick<Entry, 'id' | 'peer' | 'level'>): void {
    if (this.entries.has(entry.id)) return
    this.entries.set(entry.id, { peer: entry.peer, level: entry.level })
    const count = (this.peers.get(entry.peer) ?? 0) + 1
    this.peers.set(entry.peer, count)
    if (count === 1) this.listener.peer?.(entry.peer, true)
    this.changeLevel(entry.level, 1)
  }

  remove(id: string): void {
    const entry = this.entries.get(id)
    if (entry == null) return
    this.entries.delete(id)
    const count = (this.peers.get(entry.peer) ?? 1) - 1
    if (count > 0) this.peers.set(entry.peer, count)
    else {
      this.peers.delete(entry.peer)
      this.listener.peer?.(entry.peer, false)
    }
    this.changeLevel(entry.level, -1)
  }

  /** Forgets everything (the outbox drained or stopped), reporting every peer and level as empty. */
  clear(): void {
    const peers = [...this.peers.keys()]
    const levels = [...this.levels.keys()]
    this.entries.clear()
    this.peers.clear()
    this.levels.clear()
    for (const peer of peers) this.listener.peer?.(peer, false)
    for (const level of levels) this.listener.level?.(level, 0)
  }

  private changeLevel(level: string, delta: number): void {
    const count = (this.levels.get(level) ?? 0) + delta
    if (count > 0) this.levels.set(level, count)
    else this.levels.delete(level)
    this.listener.level?.(level, Math.max(0, count))
  }
}
