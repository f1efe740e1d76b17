/**
 * Token authentication by HMAC challenge-response: each side proves it knows the token by
 * answering the other side's random nonce, so the token itself never crosses the wire and a
 * recorded exchange cannot be replayed.
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/** A fresh 32-byte nonce. */
export function newNonce(): Buffer {
  return randomBytes(32)
}

/** The proof that whoever computed it knows `token`: HMAC-SHA256(token, context ‖ nonce). */
export function proof(token: string, context: string, nonce: Uint8Array): Buffer {
  return createHmac('sha256', token).update(context).update(nonce).digest()
}

/** Checks a proof in constant time. */
export function verifyProof(token: string, context: string, nonce: Uint8Array, candidate: unknown): boolean {
  if (!(candidate instanceof Uint8Array)) return false
  const expected = proof(token, context, nonce)
  return candidate.length === expected.length && timingSafeEqual(expected, candidate)
}
