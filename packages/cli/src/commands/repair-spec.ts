import type { CommandSpec } from '../arguments.js'
import { JSON_FLAG, KEY_FLAG, STORE_FLAG } from '../store-flags.js'

/** `dnt repair`: its flags and help (loaded without the command itself). */
export const repairSpec: CommandSpec = {
  name: 'repair',
  summary: 'keep every entry of a damaged store that still authenticates; move the damage aside',
  usage: '--key FILE --store URI [--json]',
  flags: { key: KEY_FLAG, store: STORE_FLAG, json: JSON_FLAG },
  details:
    'file: and oc-discovery: stores: each damaged file is kept as NAME.corrupt-TIME beside it, and\n' +
    'the store is written anew from every record that still authenticates (records after the\n' +
    'damage too). level: stores: values that fail authentication are set aside in the database\n' +
    '(`q:` keys); if LevelDB itself reports corruption the directory is first copied to\n' +
    'DIR.corrupt-TIME, then LevelDB repairs it. Prints what was kept and what could not be.\n' +
    'A batch that was lost leaves its changes unknown: its entries are gone, unless a later\n' +
    'batch put them again, and entries it deleted may be back (and be delivered again). A store\n' +
    'without damage is left untouched. The store must not be in use (exit 1 while locked); a\n' +
    'wrong key changes nothing (exit 1).'
}
