import {Flags} from '@oclif/core'
import {VERIFICATION_PROBLEM_CODES as PROBLEM_CODES, type ExpectedHead} from '../../src/audit/audit-log.js'
import {DomainError} from '../../src/errors/domain-error.js'
import {BaseCommand} from '../lib/base-command.js'

export default class AuditVerify extends BaseCommand<typeof AuditVerify> {
  static override summary = 'Check the audit hash chain and its signed head; exit 1 naming what does not match'
  static override description = [
    'Walks the chain from its start (the signed checkpoint of what retention pruned, else the first event), then checks that it still ends at or after the signed head checkpoint (an HMAC under the secret key, written on append), so events cut from the end are reported.',
    'Prints the chain\'s head as <seq>:<hash>: keep it elsewhere and pass it back with --head to also catch a database rolled back together with its checkpoint.',
    'Also counts the events after the signed head that no signature covers (unsigned_events): on SQLite more than audit_checkpoint_interval leaves unsigned is a problem (audit.unsigned_events); on Postgres, where a CLI without secret_key appends unsigned, it is only reported.',
    'No signed head while events exist (audit.checkpoint_missing: a database from before checkpoints, or the head deleted): appends do not create one; check the chain, then `audit sign-head`.',
  ].join(' ')

  static override flags = {
    head: Flags.string({description: 'A head kept elsewhere, <seq>:<hash> (or the hash alone): the chain must still hold it'}),
  }

  async run() {
    const expectedHead = this.flags.head === undefined ? undefined : parseHead(this.flags.head)
    const core = await this.openCore()
    const result = await core.audit.verify({expectedHead})
    if (result.problem) {
      const {kind, message, seq, id} = result.problem
      throw new DomainError(PROBLEM_CODES[kind], message, {
        ...(id === null ? {} : {event_id: id}),
        seq,
        checked_events: result.checkedEvents,
        pruned_events: result.prunedEvents,
        checkpoint: result.checkpoint,
        unsigned_events: result.unsignedEvents,
      })
    }
    const pruned = result.prunedEvents > 0 ? ` after ${result.prunedEvents} pruned (from their signed checkpoint)` : ''
    this.log(`Audit chain intact: ${result.checkedEvents} event(s) verified${pruned}`)
    if (result.head) this.log(`Head: ${result.head.seq}:${result.head.hash}`)
    if (result.unsignedEvents > 0) this.log(`${result.unsignedEvents} event(s) after the signed head #${result.head!.seq - result.unsignedEvents} are not covered by a signature yet (a cut of them would not be seen): the checkpoint interval, or appends without secret_key; the next signed append covers them`)
    if (result.expectedHead?.status === 'found') this.log(`The chain holds the given head`)
    if (result.expectedHead?.status === 'pruned') this.log(`The given head is in the pruned prefix: it cannot be checked any more`)
    return result
  }
}

/** `<seq>:<hash>` or `<hash>`: 64 hex digits. Raises validation.failed. */
export function parseHead(text: string): ExpectedHead {
  const match = /^(?:(\d{1,15}):)?([0-9a-f]{64})$/i.exec(text.trim())
  if (!match) throw new DomainError('validation.failed', 'Invalid --head: expected <seq>:<hash> (the hash: 64 hex digits), as `audit verify` prints it', {problems: [{field: 'head', message: 'must be <seq>:<hash>'}]})
  return {seq: match[1] === undefined ? null : Number(match[1]), hash: match[2]!.toLowerCase()}
}
