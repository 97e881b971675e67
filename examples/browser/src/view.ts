/** What the page shows; every state is also in a `data-` attribute, for people and for tests. */
export type PageState = 'opening' | 'waiting' | 'running' | 'locked' | 'error'
/** `dead`: kept in the dead letters; `dropped`: abandoned without one (the caller got the error). */
export type MessageStatus = 'queued' | 'delivered' | 'dead' | 'dropped'

/** Why a message left the queue undelivered. */
export interface Outcome {
  /** The outbox's reason: `exhausted`, `expired`, `rejected`, `undeliverable`. */
  reason?: string | undefined
  /** The error of its last attempt (an error object, or the entry's `lastError` text). */
  error?: unknown
}

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

  /** Adds message `id` unless an outbox event showed it already. */
  addMessage(id: string, text: string, status: MessageStatus): void {
    if (!this.items.has(id)) this.setMessage(id, text, status)
  }

  /** Adds or updates message `id`; the list keeps first-seen order. */
  setMessage(id: string, text: string, status: MessageStatus, outcome: Outcome = {}): void {
    let item = this.items.get(id)
    if (item === undefined) {
      item = this.document.createElement('li')
      item.dataset.id = id
      this.items.set(id, item)
      this.list.append(item)
    }
    item.dataset.status = status
    item.dataset.text = text
    item.textContent = text
    for (const key of ['reason', 'errorCode', 'errorReason'] as const) delete item.dataset[key]
    if (outcome.reason !== undefined) item.dataset.reason = outcome.reason
    if (outcome.error !== undefined) {
      const { code, reason, message } = fieldsOf(outcome.error)
      if (code !== '') item.dataset.errorCode = code
      if (reason !== '') item.dataset.errorReason = reason
      const why = this.document.createElement('small')
      why.textContent = message
      item.append(this.document.createElement('br'), why)
    }
    this.recount()
  }

  private recount(): void {
    const counts = { queued: 0, delivered: 0, dead: 0 }
    for (const item of this.items.values()) {
      const status = item.dataset.status as MessageStatus
      if (status !== 'dropped') counts[status]++
    }
    for (const [status, count] of Object.entries(counts)) {
      const counter = element(this.document, status)
      counter.dataset.count = String(count)
      counter.textContent = String(count)
    }
  }
}
