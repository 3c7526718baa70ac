// Finds a nonce for a sign-up challenge off the main thread (docs/ARCHITECTURE.md §10): the first
// nonce such that SHA-256(`challenge:nonce`) starts with `bits` zero bits, with Web Crypto. Digests
// are asked for in batches: each is asynchronous, and one at a time would cost a round trip each.
import { leadingZeroBits } from './bits.ts'

const BATCH = 256
const encoder = new TextEncoder()

async function solve(challenge: string, bits: number): Promise<string> {
  for (let start = 0; ; start += BATCH) {
    const digests = await Promise.all(Array.from({ length: BATCH }, (_, i) =>
      crypto.subtle.digest('SHA-256', encoder.encode(`${challenge}:${start + i}`))))
    const found = digests.findIndex((digest) => leadingZeroBits(new Uint8Array(digest)) >= bits)
    if (found >= 0) return String(start + found)
  }
}

self.onmessage = async (event: MessageEvent<{ challenge: string; bits: number }>) => {
  self.postMessage({ nonce: await solve(event.data.challenge, event.data.bits) })
}
