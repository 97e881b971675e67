import { unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { TEMPORARY_SUFFIX } from './constants.js'
import type { CompactionInit } from './file-store-init.js'
import { syncDirectory } from './file-system.js'
import { fileName, JOURNAL } from './record-format.js'
import { listDirectory } from './recovery.js'

interface JournalSize {
  generation: number
  bytes: number
  records: number
}

/**
 * The journals not yet covered by a durable snapshot (oldest first, the last
 * one being appended to), and when they are due for compaction.
 */
export class JournalLedger {
  private journals: JournalSize[] = []
  private retryAt = 0

  constructor(private readonly thresholds: Required<CompactionInit> | undefined) {}

  get count(): number {
    return this.journals.length
  }

  /** Starts the ledger over with these journals. */
  reset(journals: JournalSize[]): void {
    this.journals = journals
    this.retryAt = 0
  }

  add(generation: number, bytes: number): void {
    this.journals.push({ generation, bytes, records: 0 })
  }

  /** Counts a record appended to the newest journal. */
  appended(bytes: number): void {
    const newest = this.journals.at(-1) as JournalSize
    newest.bytes += bytes
    newest.records++
  }

  /** Forgets the journals a durable snapshot of `generation` covers; returns their generations. */
  covered(generation: number): number[] {
    const older = this.journals.filter((journal) => journal.generation < generation)
    this.journals = this.journals.filter((journal) => journal.generation >= generation)
    return older.map((journal) => journal.generation)
  }

  /** After a failed compaction: wait for `minJournalBytes` more before the next try. */
  failed(): void {
    this.retryAt = this.totals().bytes + (this.thresholds?.minJournalBytes ?? 0)
  }

  totals(): { bytes: number; records: number } {
    let bytes = 0
    let records = 0
    for (const journal of this.journals) {
      bytes += journal.bytes
      records += journal.records
    }
    return { bytes, records }
  }

  /** Whether the journals outgrew the live entries (`liveBytes` in `liveEntries` entries). */
  due(liveBytes: number, liveEntries: number): boolean {
    const thresholds = this.thresholds
    if (thresholds === undefined) return false
    const { bytes, records } = this.totals()
    if (bytes < thresholds.minJournalBytes || bytes < this.retryAt) return false
    return (
      bytes >= thresholds.journalBytesRatio * liveBytes ||
      records >= thresholds.journalRecordsRatio * liveEntries
    )
  }
}

/**
 * Removes what a durable snapshot of `generation` replaced: the journals
 * `generations` and any older snapshot. Failures are left for the next open,
 * which removes leftovers too.
 */
export async function removeReplaced(directory: string, generations: number[]): Promise<void> {
  const listing = await listDirectory(directory).catch(() => ({ leftovers: [] as string[] }))
  const names = new Set([
    ...generations.map((generation) => fileName(JOURNAL, generation)),
    ...listing.leftovers.filter((name) => !name.endsWith(TEMPORARY_SUFFIX))
  ])
  for (const name of names) await unlink(join(directory, name)).catch(() => {})
  await syncDirectory(directory).catch(() => {})
}
