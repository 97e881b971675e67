import { ed25519FromSeed } from '@dntkit/core'
import { describe, expect, it } from 'vitest'
import {
  type GoCacheEntry,
  marshalGoCache,
  openGoCache,
  sealGoCache,
  unmarshalGoCache
} from '../src/go-cache.js'

const key = ed25519FromSeed(new Uint8Array(32).fill(3))
const entry: GoCacheEntry = {
  did: 'did:<x>&y',
  addr: { ID: '12D3KooWPeer', Addrs: ['/ip4/127.0.0.1/tcp/4001'] },
  dt: 0,
  user: 'admin',
  payload: Uint8Array.from([0, 1, 254, 255]),
  proto: '/opencloud/resource/create/1.0',
  retries: 0,
  added_at: '2024-05-01T08:00:00.123456789Z'
}

describe('the Go format stand-in', () => {
  it('marshals as encoding/json does: struct order, HTML escapes, base64, omitempty dt', () => {
    expect(marshalGoCache([entry])).toBe(
      '[{"did":"did:\\u003cx\\u003e\\u0026y","addr":{"ID":"12D3KooWPeer","Addrs":["/ip4/127.0.0.1/tcp/4001"]},' +
        '"dt":0,"user":"admin","payload":"AAH+/w==","proto":"/opencloud/resource/create/1.0",' +
        '"retries":0,"added_at":"2024-05-01T08:00:00.123456789Z"}]'
    )
    const { dt: _omitted, ...withoutDataType } = entry
    expect(marshalGoCache([withoutDataType])).not.toContain('"dt"')
    expect(marshalGoCache([])).toBe('null')
  })

  it('seals as nonce || AES-256-GCM || tag and opens it again; another key fails', () => {
    const sealed = sealGoCache([entry], key)
    expect(sealed.byteLength).toBe(12 + Buffer.byteLength(marshalGoCache([entry])) + 16)
    expect(openGoCache(sealed, key)).toEqual([entry])
    // another key: AES-GCM's tag does not authenticate (node:crypto's own error)
    expect(() => openGoCache(sealed, ed25519FromSeed(new Uint8Array(32).fill(4)))).toThrow(
      new Error('Unsupported state or unable to authenticate data')
    )
  })

  it('unmarshals as Go does: field names in any case, unknown fields ignored, null as empty', () => {
    const json =
      '[{"DID":"d","Addr":{"id":"P","addrs":null},"USER":"u","Payload":"aGk=","Proto":"/p",' +
      '"Retries":2,"Added_At":"2024-01-02T03:04:05+01:00","dntkit":{"id":"x"}}]'
    expect(unmarshalGoCache(json)).toEqual([
      {
        did: 'd',
        addr: { ID: 'P', Addrs: [] },
        user: 'u',
        payload: Uint8Array.from(Buffer.from('hi')),
        proto: '/p',
        retries: 2,
        added_at: '2024-01-02T03:04:05+01:00'
      }
    ])
    expect(unmarshalGoCache('null')).toEqual([])
    expect(() => unmarshalGoCache('[{"retries":"two"}]')).toThrow(/retries/)
  })
})
