import type { Libp2p, Stream } from '@libp2p/interface'
import {
  type AckFrame,
  decodeMessageFrame,
  encodeAck,
  type MessageFrame
} from '../src/envelope-codec.js'
import { FrameDecoder } from '../src/frame-decoder.js'
import { ENVELOPE_PROTOCOL } from '../src/index.js'

/** What a script does with one frame: answer it, keep it unanswered, or reset the stream. */
export type ScriptStep = Omit<AckFrame, 'sequence'> | 'hold' | 'reset'

/** One envelope stream a scripted receiver served. */
export interface ScriptedStream {
  stream: Stream
  /** Every frame read from it, in order. */
  frames: MessageFrame[]
}

/**
 * An envelope receiver that follows a script instead of dntkit's rules:
 * `script(frame, stream)` decides per frame read. Held frames are never
 * answered; `reset` aborts the stream (the frames behind it are never read).
 */
export async function scriptedReceiver(
  node: Libp2p,
  script: (frame: MessageFrame, served: ScriptedStream) => ScriptStep
): Promise<{ streams: ScriptedStream[]; frames(): MessageFrame[] }> {
  const streams: ScriptedStream[] = []
  await node.handle(ENVELOPE_PROTOCOL, async (stream) => {
    const served: ScriptedStream = { stream, frames: [] }
    streams.push(served)
    const decoder = new FrameDecoder(8 * 1024 * 1024)
    try {
      for await (const chunk of stream) {
        for (const body of decoder.push(chunk)) {
          const frame = decodeMessageFrame(body, {
            maxMessageBytes: 4 * 1024 * 1024,
            maxHeaderBytes: 64 * 1024
          })
          served.frames.push(frame)
          const step = script(frame, served)
          if (step === 'reset') {
            stream.abort(new Error(`scripted reset at ${frame.id}`))
            return
          }
          if (step !== 'hold') stream.send(encodeAck({ sequence: frame.sequence, ...step }))
        }
      }
      await stream.close()
    } catch {
      // the sender went away
    }
  })
  return { streams, frames: () => streams.flatMap((served) => served.frames) }
}
