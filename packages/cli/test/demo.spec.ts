import { expect, it } from 'vitest'
import { dnt } from './helpers.js'

it('dnt demo tells the whole story and exits 0', async () => {
  // the timeout only guards against a hang
  const result = await dnt(['demo'], { timeout: 60_000 })
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0)
  expect(result.stdout).toContain('The story held')
  expect(result.stdout).not.toContain('FAILED')
  expect(result.stdout).toMatch(/every order arrived exactly once/)
})
