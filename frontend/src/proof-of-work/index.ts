// The sign-up's proof of work in the browser: solved in a worker, so the page stays responsive for
// the second or two it takes at the shipped difficulty.

/** A nonce that solves `challenge` at `bits` leading zero bits. */
export function solveChallenge(challenge: string, bits: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./solver.worker.ts', import.meta.url), { type: 'module' })
    worker.onmessage = (event: MessageEvent<{ nonce: string }>) => {
      worker.terminate()
      resolve(event.data.nonce)
    }
    worker.onerror = (event) => {
      worker.terminate()
      reject(new Error(event.message))
    }
    worker.postMessage({ challenge, bits })
  })
}
