/** One id as the model holds it. */
interface Held {
  key: string
  peer: string
  bytes: number
  at: number
  state: 'none' | 'kept' | 'dropped'
  reply?: number
}

/** The dedupe rules written as plainly as possible: arrays and scans. */
export function dedupeModel(limits: {
  maxEntries: number
  maxEntriesPerPeer: number
  maxBytesPerPeer: number
  maxBytes: number
  maxAge: number
}) {
  let records: Held[] = []
  // when each peer's count last changed: among the largest peers, the earliest gives up an id
  const changed = new Map<string, number>()
  let sequence = 0
  let evicted = 0
  let dropped = 0
  const of = (peer: string) => records.filter((record) => record.peer === peer)
  const size = (held: Held[]) =>
    held.reduce((sum, record) => sum + record.bytes + (record.reply ?? 0), 0)
  const idBytes = (held: Held[]) => held.reduce((sum, record) => sum + record.bytes, 0)
  const drop = (record: Held) => {
    record.state = 'dropped'
    delete record.reply
    dropped++
  }
  const remove = (key: string, now: number, eviction: boolean) => {
    const record = records.find((candidate) => candidate.key === key)
    if (record === undefined) return
    records = records.filter((candidate) => candidate !== record)
    changed.set(record.peer, sequence++)
    if (eviction && now - record.at <= limits.maxAge) evicted++
  }
  const oldestOf = (peer: string) =>
    records.find((record) => record.peer === peer) as { key: string }
  return {
    get evicted() {
      return evicted
    },
    /** The cached replies after every key was looked up at `now` (what expired is gone). */
    replies(now: number) {
      const kept = records.filter(
        (record) => record.state === 'kept' && now - record.at <= limits.maxAge
      )
      return { count: kept.length, bytes: size(kept) - idBytes(kept), dropped }
    },
    add(key: string, peer: string, bytes: number, reply: number | undefined, now: number) {
      for (const record of [...records])
        if (record.at < now - limits.maxAge) remove(record.key, now, false)
      remove(key, now, false)
      const record: Held = { key, peer, bytes, at: now, state: 'none' }
      if (reply !== undefined) {
        record.state = 'kept'
        record.reply = reply
        // a reply that cannot fit beside the ids is not kept at all
        if (
          idBytes(of(peer)) + bytes + reply > limits.maxBytesPerPeer ||
          idBytes(records) + bytes + reply > limits.maxBytes
        )
          drop(record)
      }
      records.push(record)
      changed.set(peer, sequence++)
      const keptOf = (held: Held[]) => held.find((candidate) => candidate.state === 'kept')
      while (size(of(peer)) > limits.maxBytesPerPeer && keptOf(of(peer)))
        drop(keptOf(of(peer)) as Held)
      while (of(peer).length > limits.maxEntriesPerPeer || size(of(peer)) > limits.maxBytesPerPeer)
        remove(oldestOf(peer).key, now, true)
      while (size(records) > limits.maxBytes && keptOf(records)) drop(keptOf(records) as Held)
      while (records.length > limits.maxEntries || size(records) > limits.maxBytes) {
        const peers = [...new Set(records.map((candidate) => candidate.peer))]
        peers.sort(
          (a, b) =>
            of(b).length - of(a).length || (changed.get(a) as number) - (changed.get(b) as number)
        )
        remove(oldestOf(peers[0] as string).key, now, true)
      }
    },
    get(key: string, now: number) {
      const record = records.find((candidate) => candidate.key === key)
      return record !== undefined && now - record.at <= limits.maxAge ? record : undefined
    }
  }
}
