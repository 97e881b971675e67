/** Why a frame was refused: only its size is at fault (`too-large`, `id-too-long`), or it breaks the format. */
export type FrameErrorKind = 'malformed' | 'too-large'

/**
 * A frame that breaks the wire format (`kind: 'malformed'`), or a well-formed
 * one over a size limit (`kind: 'too-large'`; `code` is the ack code the
 * receiver answers with: `too-large`, or `id-too-long` for a message id over
 * the limit). The only error the frame decoders throw.
 */
export class FrameError extends RangeError {
  readonly code: string

  constructor(
    message: string,
    readonly kind: FrameErrorKind = 'malformed',
    code?: string
  ) {
    super(message)
    this.name = 'FrameError'
    this.code = code ?? kind
  }
}
