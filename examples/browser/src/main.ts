import { StoreKeyMismatchError, StoreLockedError } from '@dntkit/core'
import { multiaddr } from '@multiformats/multiaddr'
import { loadIdentity } from './identity.js'
import { createBrowserNode } from './node.js'
import { openOutbox, PROTOCOL } from './outbox.js'
import { readSettings, rememberReceiver } from './settings.js'
import { View } from './view.js'

/** The receiver's peer id and address, from a multiaddr ending in `/p2p/PEER`. */
function target(address: string): { peer: string; addrs: string[] } {
  const parsed = multiaddr(address.trim())
  const peer = parsed.getComponents().findLast((component) => component.name === 'p2p')?.value
  if (peer === undefined)
    throw new TypeError(`the receiver address needs /p2p/PEER at its end: ${address}`)
  return { peer, addrs: [parsed.toString()] }
}

async function main(): Promise<void> {
  const view = new View(document)
  const settings = readSettings(location, localStorage)
  view.to.value = settings.to
  const privateKey = await loadIdentity(localStorage, settings.identity)
  const node = await createBrowserNode(privateKey, settings.gater)
  view.setPeerId(node.peerId.toString())

  let outbox: Awaited<ReturnType<typeof openOutbox>>
  try {
    outbox = await openOutbox(node, privateKey, settings.lock, view)
  } catch (error) {
    if (StoreLockedError.isInstance(error)) {
      view.setState(
        'locked',
        'another tab holds the outbox (open this page with ?lock=wait to wait for it)'
      )
    } else if (StoreKeyMismatchError.isInstance(error)) {
      view.setState(
        'error',
        "the outbox was written with another identity's key: nothing was read or changed"
      )
    } else {
      view.setState('error', 'the outbox could not be opened')
    }
    view.showError(error)
    return
  }
  view.setState('running', 'running: messages wait here until the receiver takes them')

  view.form.addEventListener('submit', (event) => {
    event.preventDefault()
    const text = view.text.value
    if (text === '') return
    void (async () => {
      try {
        const to = target(view.to.value)
        rememberReceiver(localStorage, view.to.value.trim())
        view.text.value = ''
        const payload = new TextEncoder().encode(text)
        const result = await outbox.send({ ...to, protocol: PROTOCOL, payload })
        view.addMessage(result.id, text, result.status === 'delivered' ? 'delivered' : 'queued')
        view.clearError()
      } catch (error) {
        view.showError(error, 'not sent: ')
      }
    })()
  })
  view.retry.addEventListener('click', () => void outbox.flush())
  // back online: try at once instead of at the end of the backoff
  window.addEventListener('online', () => void outbox.flush())
}

void main().catch((error: unknown) => {
  const view = new View(document)
  view.setState('error', 'the page failed to start')
  view.showError(error)
})
