import type { FlagSpec, ParsedFlags } from './arguments.js'
import { stringFlag } from './arguments.js'
import { UsageError } from './errors.js'

export type DeliveryMode = 'raw' | 'envelope'

/** `--mode raw|envelope`. */
export const MODE_FLAG: FlagSpec = {
  type: 'string',
  value: 'raw|envelope',
  description:
    'raw: the payload on a stream of --protocol (any handler); envelope: framed, acked, deduplicated (default raw)'
}

/** The `--mode` value, checked. */
export function modeFlag(flags: ParsedFlags): DeliveryMode | undefined {
  const mode = stringFlag(flags, 'mode')
  if (mode === undefined || mode === 'raw' || mode === 'envelope') return mode
  throw new UsageError(`flag --mode must be raw or envelope, got "${mode}"`)
}
