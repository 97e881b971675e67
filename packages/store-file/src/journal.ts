import { constants } from 'node:fs'
import { type FileHandle, open } from 'node:fs/promises'
import { join } from 'node:path'
import { StoreUnavailableError } from '@dntkit/core'
import { type Aead, concatBytes } from '@dntkit/core/plugin'
import { replaceFile, writeAll } from './file-system.js'
import {
  encodeHeader,
  type FileHeader,
  fileName,
  frame,
  JOURNAL,
  MARKER_AAD,
  recordAad
} from './record-format.js'

/**
 * Appends are opened with O_DSYNC where the platform has it: each write
 * returns once its data (and the file size) is on disk, exactly what
 * `fdatasync` guarantees, in one system call instead of two.
 */
const DSYNC = constants.O_DSYNC
const APPEND_FLAGS = DSYNC === undefined ? 'r+' : constants.O_RDWR | DSYNC

/** A journal file open for appending encrypted records. */
export class Journal {
  private failure: unknown

  private constructor(
    readonly path: string,
    readonly header: FileHeader,
    private readonly handle: FileHandle,
    private readonly key: Aead,
    /** Bytes of the file: everything written and fsynced. */
    public bytes: number,
    /** Records after the marker. */
    public records: number
  ) {}

  get generation(): number {
    return this.header.generation
  }

  /** Creates journal `generation` (header + marker) atomically: tmp, fsync, rename, fsync directory. */
  static async create(
    directory: string,
    generation: number,
    storeId: Uint8Array,
    key: Aead
  ): Promise<Journal> {
    const header = encodeHeader(JOURNAL, generation, storeId)
    const start = concatBytes([header.bytes, frame(await key.seal(header.bytes, MARKER_AAD))])
    const path = join(directory, fileName(JOURNAL, generation))
    await replaceFile(path, directory, async (handle) => {
      await writeAll(handle, start, 0)
      return start.byteLength
    })
    return new Journal(path, header, await open(path, APPEND_FLAGS), key, start.byteLength, 0)
  }

  /**
   * Opens an existing journal whose first `validEnd` bytes hold `records`
   * authentic records; anything after them is cut off (and fsynced) first.
   */
  static async resume(
    path: string,
    header: FileHeader,
    key: Aead,
    validEnd: number,
    records: number
  ): Promise<Journal> {
    const handle = await open(path, APPEND_FLAGS)
    try {
      if ((await handle.stat()).size !== validEnd) {
        await handle.truncate(validEnd)
        await handle.sync()
      }
    } catch (error) {
      await handle.close()
      throw error
    }
    return new Journal(path, header, handle, key, validEnd, records)
  }

  /** Seals `plaintext` as the next record and appends it; resolves once it is durable. */
  async append(plaintext: Uint8Array): Promise<number> {
    if (this.failure !== undefined) {
      throw new StoreUnavailableError(
        `${this.path}: an earlier write failed and could not be rolled back; close and reopen the store`,
        { cause: this.failure }
      )
    }
    const bytes = frame(await this.key.seal(plaintext, recordAad(this.header, this.records + 1)))
    try {
      await writeAll(this.handle, bytes, this.bytes)
      if (DSYNC === undefined) await this.handle.datasync()
    } catch (error) {
      await this.rollBack(error)
      throw error
    }
    this.bytes += bytes.byteLength
    this.records++
    return bytes.byteLength
  }

  /** Cuts a failed append off, so the next record follows the last durable one. */
  private async rollBack(error: unknown): Promise<void> {
    try {
      await this.handle.truncate(this.bytes)
      await this.handle.sync()
    } catch {
      this.failure = error
    }
  }

  async close(): Promise<void> {
    await this.handle.close()
  }
}
