import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'

/**
 * The Go original's dnt_cache.bin written and read with node:crypto alone,
 * independently of the package: key = HKDF-SHA256(64 raw key bytes, empty
 * salt, info "oc-discovery/dnt-cache/v1"), file = nonce (12) || AES-256-GCM
 * ciphertext || tag (16), no associated data.
 */
export function goKey(privateKey: Uint8Array): Buffer {
  return Buffer.from(
    hkdfSync('sha256', privateKey, Buffer.alloc(0), 'oc-discovery/dnt-cache/v1', 32)
  )
}

export async function writeGoCache(
  path: string,
  privateKey: Uint8Array,
  json: string
): Promise<void> {
  const nonce = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', goKey(privateKey), nonce)
  const body = Buffer.concat([cipher.update(json, 'utf8'), cipher.final()])
  await writeFile(path, Buffer.concat([nonce, body, cipher.getAuthTag()]), { mode: 0o600 })
}

export async function readGoCache(path: string, privateKey: Uint8Array): Promise<string> {
  const bytes = await readFile(path)
  const decipher = createDecipheriv('aes-256-gcm', goKey(privateKey), bytes.subarray(0, 12))
  decipher.setAuthTag(bytes.subarray(bytes.byteLength - 16))
  return Buffer.concat([
    decipher.update(bytes.subarray(12, bytes.byteLength - 16)),
    decipher.final()
  ]).toString('utf8')
}

/** Elements exactly as Go's json.Marshal writes dntEntryJSON (field order, escaping, time format). */
export const GO_ELEMENTS = [
  '{"did":"did:oc:alice","addr":{"ID":"12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp","Addrs":["/ip4/10.0.0.5/tcp/4001","/ip4/10.0.0.5/udp/4001/quic-v1"]},"dt":3,"user":"alice","payload":"eyJpZCI6InJlcy0xIiwibmFtZSI6IkEgXHUwMDI2IEIifQ==","proto":"/opencloud/resource/create/1.0","retries":0,"added_at":"2025-03-14T09:26:53.589793238+01:00"}',
  '{"did":"did:oc:bob \\u003cadmin\\u003e","addr":{"ID":"12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA","Addrs":[]},"user":"","payload":"","proto":"/opencloud/resource/delete/1.0","retries":2,"added_at":"2025-03-14T08:00:00Z"}',
  '{"did":"did:oc:carol","addr":{"ID":"12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp","Addrs":["/dns4/node.example/tcp/443/wss"]},"dt":0,"user":"carol","payload":"AAEC/f7/","proto":"/opencloud/resource/update/1.0","retries":0,"added_at":"2024-12-31T23:59:59.5-05:30","future_field":{"nested":[1,2.50,"x"]}}'
]
