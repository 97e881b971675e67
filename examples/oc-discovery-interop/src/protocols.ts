/**
 * oc-discovery's `dntProtocols` map (the ids here are illustrative): data
 * mutations are critical, confirmations and configuration moderate, and
 * anything else (search, pubsub) is never cached.
 */
export const CRITICAL = [
  '/opencloud/resource/create/1.0',
  '/opencloud/resource/update/1.0',
  '/opencloud/resource/delete/1.0'
]
export const MODERATE = [
  '/opencloud/resource/verify/1.0',
  '/opencloud/planner/1.0',
  '/opencloud/resource/considers/1.0'
]
export const SEARCH = '/opencloud/resource/search/1.0'

export const [CREATE, UPDATE, DELETE] = CRITICAL as [string, string, string]
export const [VERIFY] = MODERATE as [string]
