/** The JSON options an actor was started with (its one argument). */
export function actorOptions<T>(): T {
  const text = process.argv[2]
  if (text === undefined) throw new TypeError('an actor takes one argument: its options as JSON')
  return JSON.parse(text) as T
}

/** One JSON line on stdout, how actors report to the test. */
export function report(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`)
}

/** Calls `listener` for every JSON line on stdin (the test's commands). */
export function onCommand(listener: (command: Record<string, unknown>) => void): void {
  let partial = ''
  process.stdin.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk
    const lines = partial.split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) if (line.trim() !== '') listener(JSON.parse(line))
  })
}

export function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds))
}
