import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A small tmpfs of its own: a disk that can be filled up and emptied again. */
export interface SmallDisk {
  path: string
  /** Writes ballast files until the disk refuses a single byte more. */
  fill(): number
  /** Removes the ballast. */
  free(): void
  unmount(): void
}

/**
 * Mounts a `bytes`-sized tmpfs on a fresh directory. Needs root (or
 * CAP_SYS_ADMIN), as CI and this suite's machines have; fails with a message
 * that says so otherwise.
 */
export function mountSmallDisk(bytes: number): SmallDisk {
  const path = mkdtempSync(join(tmpdir(), 'dntkit-chaos-disk-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0700`, 'tmpfs', path], {
      stdio: 'pipe'
    })
  } catch (error) {
    rmSync(path, { recursive: true, force: true })
    throw new Error(
      `the disk-full scenario mounts a tmpfs and needs root: mount -t tmpfs on ${path} failed: ${(error as { stderr?: Buffer }).stderr?.toString().trim() ?? error}`
    )
  }
  let ballast = 0
  return {
    path,
    fill() {
      // big pieces first, then smaller ones, down to one page (what a file takes at least)
      for (let size = 256 * 1024; size >= 4096; size = Math.floor(size / 4)) {
        for (;;) {
          try {
            writeFileSync(join(path, `ballast-${ballast}`), new Uint8Array(size))
            ballast++
          } catch (error) {
            if ((error as { code?: string }).code !== 'ENOSPC') throw error
            rmSync(join(path, `ballast-${ballast}`), { force: true })
            break
          }
        }
      }
      return ballast
    },
    free() {
      for (let index = 0; index < ballast; index++)
        rmSync(join(path, `ballast-${index}`), { force: true })
      ballast = 0
    },
    unmount() {
      execFileSync('umount', [path], { stdio: 'pipe' })
      rmSync(path, { recursive: true, force: true })
    }
  }
}
