import { randomBytes } from "crypto"
import { factory } from "ulid"

const POOL_SIZE = 4096
let pool = randomBytes(POOL_SIZE)
let next = 0

/*
 * The ulid package draws one crypto byte per character by default, a call
 * into OpenSSL each time; on the hot path of every stored run that showed in
 * profiles. The same crypto bytes, fetched 4 KB at a time.
 */
function pooledRandom(): number {
  if (next === POOL_SIZE) {
    pool = randomBytes(POOL_SIZE)
    next = 0
  }
  return pool[next++] / 256
}

const ulid = factory(pooledRandom)

/** The id of a stored run, as Medusa's engines shape it: `wf_exec_<ULID>`. */
export const executionId = () => `wf_exec_${ulid()}`

/** A transaction id the engine picks when the caller gave none. */
export const generatedTransactionId = () => `auto-${ulid()}`
