import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Command, say } from '../command.js'
import { EXIT_FAILURE, EXIT_OK } from '../constants.js'
import { tellStory } from '../demo/story.js'
import { demoSpec } from './demo-spec.js'

export const demoCommand: Command = {
  spec: demoSpec,
  async run({ io, flags }) {
    const started = Date.now()
    const directory = mkdtempSync(join(tmpdir(), 'dntkit-demo-'))
    say(io, `dnt demo: Disconnection Network Tolerance on 127.0.0.1, in ${directory}`)
    let failures: string[] = []
    try {
      failures = await tellStory(io, directory)
    } catch (error) {
      // interrupted: the children were stopped, so a step failed; that is not the story's fault
      if (!io.signal.aborted) throw error
    } finally {
      if (flags.keep !== true) rmSync(directory, { recursive: true, force: true })
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1)
    say(io)
    if (io.signal.aborted) {
      say(
        io,
        `The story was interrupted after ${seconds} s: it proves nothing until it runs to its end.`
      )
      return EXIT_FAILURE
    }
    if (failures.length === 0) {
      say(io, `The story held: every claim above was checked (${seconds} s).`)
    } else {
      say(io, `The story did NOT hold (${seconds} s): ${failures.length} claim(s) failed:`)
      for (const failure of failures) say(io, `  - ${failure}`)
    }
    if (flags.keep === true) say(io, `files kept in ${directory}`)
    return failures.length === 0 ? EXIT_OK : EXIT_FAILURE
  }
}
