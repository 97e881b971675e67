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
  /** ms, and count per peer, an id is safe from other peers' ids (not from its own peer's). */
  minAge: number
  protectedPerPeer: number
}) {
  let records: Held[] = []
  // when each peer's count last changed: among the largest peers, the earliest gives up an id
  const changed = new Map<string, number>()
  let sequence = 0
  let evicted = 0
  let protectedEvicted = 0
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
  const oldestOf = (peer: string) => records.find((record) => record.peer === peer) as Held
  const expire = (now: number) => {
    for (const record of [...records])
      if (record.at < now - limits.maxAge) remove(record.key, now, false)
  }
  const largestPeer = () => {
    const peers = [...new Set(records.map((candidate) => candidate.peer))]
    peers.sort(
      (a, b) =>
        of(b).length - of(a).length || (changed.get(a) as number) - (changed.get(b) as number)
    )
    return peers[0] as string
  }
  // a peer's oldest id is protected while the peer holds at most protectedPerPeer, younger than minAge
  const unprotected = (record: Held | undefined, now: number) =>
    record !== undefined &&
    (of(record.peer).length > limits.protectedPerPeer || now - record.at >= limits.minAge)
  return {
    get evicted() {
      return evicted
    },
    get protectedEvicted() {
      return protectedEvicted
    },
    /** Whether a new id of `peer` fits without another peer's id younger than minAge going. */
    admits(peer: string, bytes: number, now: number) {
      expire(now)
      if (records.length < limits.maxEntries && idBytes(records) + bytes <= limits.maxBytes)
        return true
      if (unprotected(oldestOf(largestPeer()), now) || unprotected(records[0], now)) return true
      return of(peer).length > 0
    },
    /** The cached replies after every key was looked up at `now` (what expired is gone). */
    replies(now: number) {
      const kept = records.filter(
        (record) => record.state === 'kept' && now - record.at <= limits.maxAge
      )
      return { count: kept.length, bytes: size(kept) - idBytes(kept), dropped }
    },
    add(key: string, peer: string, bytes: number, reply: number | undefined, now: number) {
      expire(now)
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
        // an unprotected id: the largest peer's oldest, else the oldest of all; else the
        // adding peer's own oldest; else (more added than admitted) the largest peer's oldest anyway
        const candidate = oldestOf(largestPeer())
        const own = of(peer).find((held) => held.key !== key)
        let victim: Held
        if (unprotected(candidate, now)) victim = candidate
        else if (unprotected(records[0], now)) victim = records[0] as Held
        else if (own !== undefined) victim = own
        else {
          protectedEvicted++
          victim = candidate
        }
        remove(victim.key, now, true)
      }
    },
    get(key: string, now: number) {
      const record = records.find((candidate) => candidate.key === key)
      return record !== undefined && now - record.at <= limits.maxAge ? record : undefined
    }
  }
}
