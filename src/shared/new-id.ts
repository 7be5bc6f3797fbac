import {randomFillSync} from 'node:crypto'
import {v7 as uuidv7} from 'uuid'

const IDS_PER_FILL = 256
const pool = new Uint8Array(16 * IDS_PER_FILL)
let nextInPool = IDS_PER_FILL
const state = {msecs: Number.NEGATIVE_INFINITY, seq: 0}

/**
 * A UUIDv7 as uuid's `v7()` makes it — time-ordered, its counter rising within a millisecond —
 * but with its 16 random bytes taken from a pool filled 4 KiB at a time: `v7()` asks
 * crypto.getRandomValues for each id, which cost more than the insert of the row it names when
 * an apply creates tens of thousands of rows. The same randomness (the CSPRNG), each byte used once.
 */
export function newUuidV7(): string {
  if (nextInPool === IDS_PER_FILL) {
    randomFillSync(pool)
    nextInPool = 0
  }
  const random = pool.subarray(nextInPool * 16, (nextInPool + 1) * 16)
  nextInPool += 1
  // uuid's own state update (updateV7State in uuid/dist/v7.js): a new millisecond starts the
  // counter at random bits, the same millisecond increments it (and moves on a millisecond when it wraps).
  const now = Date.now()
  if (now > state.msecs) {
    state.seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!
    state.msecs = now
  } else {
    state.seq = (state.seq + 1) | 0
    if (state.seq === 0) state.msecs += 1
  }
  return uuidv7({random, msecs: state.msecs, seq: state.seq})
}
