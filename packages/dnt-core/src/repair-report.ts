/** What a repair could not keep in one place (a record of a file, a value of a database). */
export interface RepairLoss {
  /** The record (1 = the first after a file's marker, 0 = its header or marker), or the element index. */
  record?: number
  /** The key of a key-value store's value, e.g. `e:42`. */
  key?: string
  /** Byte offset of the damage in the file, when the format has one. */
  offset?: number
  /** Bytes that could not be used there. */
  bytes?: number
  /** Records lost there, when known. */
  records?: number
  reason: string
}

/** A damaged file (or database): what of it was kept, what was not, and where its bytes went. */
export interface RepairedFile {
  file: string
  /** Where the damaged bytes are kept (`<name>.corrupt-<time>`); absent when nothing had to be moved. */
  movedTo?: string
  /** The store needed this file and it was not there. */
  missing: boolean
  /** Records, elements or values of it that still authenticate and were kept. */
  kept: number
  lost: RepairLoss[]
}

/** What a store's repair function did (`repairFileStore()`, `repairLevelStore()`, ...). */
export interface StoreRepairReport {
  /** The directory, file or database repaired. */
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
