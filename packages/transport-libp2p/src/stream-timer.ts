import type { Clock, TimerHandle } from '@dntkit/core'
import type { Stream } from '@libp2p/interface'

/** One timeout of a stream on an injectable clock: armed, disarmed, armed again. */
export class StreamTimer {
  private handle: TimerHandle | undefined

  constructor(
    private readonly clock: Clock,
    private readonly delay: number,
    private readonly onExpire: () => void
  ) {}

  get armed(): boolean {
    return this.handle !== undefined
  }

  /** Starts the timeout unless it runs already. */
  arm(): void {
    if (this.handle !== undefined) return
    this.handle = this.clock.setTimeout(() => {
      this.handle = undefined
      this.onExpire()
    }, this.delay)
  }

  disarm(): void {
    if (this.handle === undefined) return
    this.clock.clearTimeout(this.handle)
    this.handle = undefined
  }
}

/** Closes our side of `stream`, giving up after `delay` ms on `clock`; resets it when that fails. */
export async function closeWithin(stream: Stream, clock: Clock, delay: number): Promise<boolean> {
  const timeout = new AbortController()
  const timer = clock.setTimeout(() => timeout.abort(), delay)
  try {
    await stream.close({ signal: timeout.signal })
    return true
  } catch {
    stream.abort(new Error('stream close failed'))
    return false
  } finally {
    clock.clearTimeout(timer)
  }
}
