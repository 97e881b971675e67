import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  defaultPreset,
  type Entry,
  ed25519FromSeed,
  Outbox,
  PeerUnreachableError,
  type Transport
} from '@dntkit/core'
import { deriveStoreKey } from '@dntkit/core/plugin'
import initSqlJs from 'sql.js'
import { sqliteStore } from './sqlite-store.js'

export interface CustomStoreExampleOptions {
  /** Where the database file is created. */
  directory: string
  say?: (line: string) => void
}

export interface CustomStoreExampleResult {
  statuses: string[]
  /** Rows of the database file while the peer was down: [position, id, record bytes]. */
  rows: Array<[number, string, number]>
  restored: number
  delivered: string[]
  leftInStore: number
}

/** Any string the transport understands; a libp2p transport takes a peer id. */
const PEER = 'example-peer'

/**
 * A stand-in for a real transport (see the basic example for libp2p): a peer
 * that is offline until `online` is set. Throwing `PeerUnreachableError` tells
 * the outbox to keep the entry and retry later.
 */
function toyTransport() {
  const delivered: string[] = []
  const transport: Transport & { online: boolean; delivered: string[] } = {
    online: false,
    delivered,
    async deliver(entry: Entry) {
      if (!transport.online) throw new PeerUnreachableError(`${entry.peer} is offline`)
      delivered.push(Buffer.from(entry.payload).toString())
    }
  }
  return transport
}

/** Reads the database file as any SQLite tool would (`sqlite3 outbox.sqlite 'SELECT ...'`). */
async function listRows(file: string): Promise<Array<[number, string, number]>> {
  const SQL = await initSqlJs()
  const database = new SQL.Database(await readFile(file))
  try {
    const result = database.exec(
      'SELECT position, id, length(record) FROM entries ORDER BY position'
    )
    return (result[0]?.values ?? []) as Array<[number, string, number]>
  } finally {
    database.close()
  }
}

export async function runCustomStoreExample(
  options: CustomStoreExampleOptions
): Promise<CustomStoreExampleResult> {
  const say = options.say ?? (() => {})
  const file = join(options.directory, 'outbox.sqlite')
  // a real node derives the key from its own Ed25519 key (node.privateKey)
  const privateKey = ed25519FromSeed(crypto.getRandomValues(new Uint8Array(32)))
  const key = await deriveStoreKey(privateKey, 'my-app/sqlite-store/v1')
  const transport = toyTransport()
  const newOutbox = () =>
    new Outbox({
      transport,
      store: sqliteStore({ file, key }),
      policy: defaultPreset() // unmapped protocols are critical: persisted until delivered
    })

  let outbox = newOutbox()
  await outbox.start()
  say('1. The peer is offline; three messages are sent:')
  const statuses: string[] = []
  for (const text of ['first', 'second', 'third']) {
    const result = await outbox.send({
      peer: PEER,
      protocol: '/app/note/1.0.0',
      payload: Buffer.from(text)
    })
    statuses.push(result.status)
    say(`   send "${text}" -> ${result.status} (id ${result.id})`)
  }
  await outbox.stop()

  const rows = await listRows(file)
  say(`2. ${file} is a plain SQLite database; its rows (records sealed with AES-256-GCM):`)
  for (const [position, id, bytes] of rows) say(`   position ${position}  id ${id}  ${bytes} bytes`)

  outbox = newOutbox()
  await outbox.start()
  const restored = outbox.entries().length
  say(`3. A new outbox on the same file (as after a restart) restored ${restored} entries.`)

  say('4. The peer comes online; the outbox is told so and flushes:')
  transport.online = true
  outbox.peerReachable(PEER) // what a transport's onReachable() does for you
  await outbox.whenDrained({ signal: AbortSignal.timeout(30_000) })
  for (const text of transport.delivered) say(`   delivered "${text}"`)
  await outbox.stop()

  const leftInStore = (await listRows(file)).length
  say(`5. ${leftInStore} rows left: an entry leaves the store only once delivered.`)
  return { statuses, rows, restored, delivered: transport.delivered, leftInStore }
}
