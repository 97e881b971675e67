/** What the page shows; every state is also in a `data-` attribute, for people and for tests. */
export type PageState = 'opening' | 'waiting' | 'running' | 'locked' | 'error'
export type MessageStatus = 'queued' | 'delivered' | 'dead'

function element<T extends HTMLElement>(document: Document, id: string): T {
  const found = document.getElementById(id)
  if (found === null) throw new Error(`the page has no #${id}`)
  return found as T
}

/** The fields of a dntkit error the page shows (name, stable code, reason). */
function fieldsOf(error: unknown): { name: string; code: string; reason: string; message: string } {
  const value = (error ?? {}) as {
    name?: unknown
    code?: unknown
    reason?: unknown
    message?: unknown
  }
  return {
    name: typeof value.name === 'string' ? value.name : 'Error',
    code: typeof value.code === 'string' ? value.code : '',
    reason: typeof value.reason === 'string' ? value.reason : '',
    message: typeof value.message === 'string' ? value.message : String(error)
  }
}

function showError(target: HTMLElement, error: unknown, lead: string): void {
  const { name, code, reason, message } = fieldsOf(error)
  target.hidden = false
  target.dataset.name = name
  target.dataset.code = code
  target.dataset.reason = reason
  target.textContent = `${lead}${name}${code === '' ? '' : ` (${code})`}: ${message}`
}

/** The page's DOM, kept in step with the outbox. */
export class View {
  private readonly items = new Map<string, HTMLLIElement>()
  private readonly status: HTMLElement
  private readonly list: HTMLOListElement
  readonly to: HTMLInputElement
  readonly text: HTMLInputElement
  readonly form: HTMLFormElement
  readonly send: HTMLButtonElement
  readonly retry: HTMLButtonElement

  constructor(private readonly document: Document) {
    this.status = element(document, 'status')
    this.list = element(document, 'messages')
    this.to = element(document, 'to')
    this.text = element(document, 'text')
    this.form = element(document, 'compose')
    this.send = element(document, 'send')
    this.retry = element(document, 'retry')
  }

  setState(state: PageState, text: string): void {
    this.status.dataset.state = state
    this.status.textContent = text
    const usable = state === 'running'
    this.send.disabled = !usable
    this.retry.disabled = !usable
  }

  setPeerId(peerId: string): void {
    element(this.document, 'peer-id').textContent = peerId
  }

  /** A failure of the page itself (the store would not open, a send was refused). */
  showError(error: unknown, lead = ''): void {
    showError(element(this.document, 'error'), error, lead)
  }

  clearError(): void {
    element(this.document, 'error').hidden = true
  }

  /** Why the last delivery attempt failed. */
  showAttemptError(error: unknown): void {
    showError(element(this.document, 'last-error'), error, 'last attempt: ')
  }

  /** A delivery went through: the last failure is history. */
  clearAttemptError(): void {
    element(this.document, 'last-error').hidden = true
  }

  /** Adds or updates message `id`; the list keeps first-seen order. */
  setMessage(id: string, text: string, status: MessageStatus, reason?: string): void {
    let item = this.items.get(id)
    if (item === undefined) {
      item = this.document.createElement('li')
      item.dataset.id = id
      this.items.set(id, item)
      this.list.append(item)
    }
    item.dataset.status = status
    if (reason === undefined) delete item.dataset.reason
    else item.dataset.reason = reason
    item.textContent = text
    this.recount()
  }

  private recount(): void {
    const counts: Record<MessageStatus, number> = { queued: 0, delivered: 0, dead: 0 }
    for (const item of this.items.values()) counts[item.dataset.status as MessageStatus]++
    for (const [status, count] of Object.entries(counts)) {
      const counter = element(this.document, status)
      counter.dataset.count = String(count)
      counter.textContent = String(count)
    }
  }
}
