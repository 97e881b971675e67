import type { CommandSpec } from '../arguments.js'

/** `dnt demo`: its flags and help (loaded without the command itself). */
export const demoSpec: CommandSpec = {
  name: 'demo',
  summary: 'the whole story on 127.0.0.1: receiver down, crash, restart, delivery (no arguments)',
  usage: '[--keep]',
  flags: {
    keep: {
      type: 'boolean',
      description: 'keep the temporary directory (keys, store, received.jsonl)'
    }
  },
  details:
    'Runs real dnt processes in a fresh temporary directory: a sender and a receiver on\n' +
    '127.0.0.1. Exits 0 only if every claim of the story held. SIGINT / SIGTERM stop every\n' +
    'child (SIGKILL after 5 s) and exit 1: an interrupted story proves nothing.'
}
