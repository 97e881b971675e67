/** What the page is told in its address (`?to=...&lock=fail&identity=...&gater=default`). */
export interface Settings {
  /** The receiver's multiaddr with `/p2p/PEER` (as `dnt listen` prints it), remembered per browser. */
  to: string
  /** `wait` (default): a second tab waits for the first to close; `fail`: it reports the lock. */
  lock: 'wait' | 'fail'
  /** Name of the identity (node key) to use; a new name makes a new key. */
  identity: string
  /**
   * `open` (default): dial loopback and private addresses, which libp2p's
   * browser gater refuses; `default`: keep libp2p's gater, to see a denied
   * dial reported as undeliverable.
   */
  gater: 'open' | 'default'
}

const REMEMBERED_RECEIVER = 'dntkit-example:receiver'

/** Reads the settings from the page's address, falling back to what this browser remembers. */
export function readSettings(location: Location, storage: Storage): Settings {
  const query = new URLSearchParams(location.search)
  const to = query.get('to') ?? storage.getItem(REMEMBERED_RECEIVER) ?? ''
  return {
    to,
    lock: query.get('lock') === 'fail' ? 'fail' : 'wait',
    identity: query.get('identity') ?? 'default',
    gater: query.get('gater') === 'default' ? 'default' : 'open'
  }
}

/** Remembers the receiver's address for the next visit. */
export function rememberReceiver(storage: Storage, to: string): void {
  storage.setItem(REMEMBERED_RECEIVER, to)
}
