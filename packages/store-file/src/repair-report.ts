/** What a repair could not keep of one file. */
export interface RepairLoss {
  /** The record (1 = the first after the marker, 0 = the header or the marker), or the element index. */
  record: number
  /** Byte offset of the damage in the file, when the format has one. */
  offset?: number
  /** Bytes of the file that could not be used there. */
  bytes?: number
  /** Records lost there, when known. */
  records?: number
  reason: string
}

/** A damaged file: what of it was kept, what was not, and where its bytes went. */
export interface RepairedFile {
  file: string
  /** Where the damaged file's bytes are kept (`<name>.corrupt-<time>`); absent for a missing file. */
  movedTo?: string
  /** The store needed this file and it was not there. */
  missing: boolean
  /** Records (or elements) of it that still authenticate and were kept. */
  kept: number
  lost: RepairLoss[]
}

/** What `repairFileStore()` / `repairOcDiscoveryStore()` did. */
export interface StoreRepairReport {
  /** The directory or file repaired. */
  store: string
  /** False when nothing was damaged: then nothing was changed. */
  repaired: boolean
  /** Entries the store holds now. */
  entries: number
  /** The damaged files, each with what was kept and what was lost. */
  files: RepairedFile[]
  /** Ids of entries that authenticated but did not decode, left out. */
  undecodable: string[]
}
