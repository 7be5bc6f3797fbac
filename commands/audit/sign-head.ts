import {Flags} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {confirmOrRefuse} from '../lib/confirm.js'
import {parseHead} from './verify.js'

export default class AuditSignHead extends BaseCommand<typeof AuditSignHead> {
  static override summary = 'Check the audit chain from its start, then sign its current end as the head checkpoint'
  static override description = [
    'Appends never create a head checkpoint while events exist (only the first event of a fresh log does): a head that is missing — a database upgraded from before checkpoints, or the row deleted — stays missing, and `audit verify` reports audit.checkpoint_missing, until an operator who checked how the log got there runs this.',
    'It walks the chain from its start (the signed checkpoint of the pruned prefix, else genesis) and refuses (nothing signed) when it is broken, or does not hold the head given with --head; then signs the chain\'s end and records `audit.head_signed` with the head it found.',
    'A head the chain no longer holds (audit.events_cut) or with an invalid signature (audit.checkpoint_invalid) is replaced only with --accept-cut: after a cut was investigated, to have later cuts detected again. Needs the secret key.',
  ].join(' ')

  static override flags = {
    head: Flags.string({description: 'A head kept elsewhere, <seq>:<hash>: refuse unless the chain still holds it'}),
    'accept-cut': Flags.boolean({description: 'Replace a head the chain no longer holds, or one whose signature does not verify (after investigating the cut)'}),
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation'}),
  }

  async run() {
    const expectedHead = this.flags.head === undefined ? undefined : parseHead(this.flags.head)
    const core = await this.openCore()
    const acceptCut = this.flags['accept-cut']
    const question = acceptCut
      ? 'Sign the audit chain as it now ends, replacing a head it no longer holds (the cut will no longer be reported)?'
      : 'Sign the audit chain as it now ends as its head (only once you know why it has none)?'
    await confirmOrRefuse(question, this.flags.yes)
    const result = await core.audit.signHead(this.actor(), {acceptCut, expectedHead})
    if (result.reason === 'empty') this.log('The audit log is empty: nothing to sign (its first event signs the head)')
    else if (result.reason === 'current') this.log(`The head already names the chain's end: ${result.signed!.seq}:${result.signed!.hash}`)
    else this.log(`Signed the head at ${result.signed!.seq}:${result.signed!.hash} after checking ${result.checkedEvents} event(s) (${result.reason}); recorded as audit.head_signed`)
    return result
  }
}
