import {BaseCommand} from '../lib/base-command.js'
import {DomainError} from '../../src/errors/domain-error.js'

export default class AuditVerify extends BaseCommand<typeof AuditVerify> {
  static override summary = 'Check the audit hash chain; exit non-zero naming the first event that does not match'

  async run() {
    const core = await this.openCore()
    const result = await core.audit.verifyChain()
    if (!result.isIntact) {
      const {seq, id, reason} = result.brokenAt
      throw new DomainError('audit.chain_broken', `Audit chain broken at event ${id} (#${seq}): ${reason}`, {event_id: id, seq, checked_events: result.checkedEvents})
    }
    this.log(`Audit chain intact: ${result.checkedEvents} event(s) verified`)
    return result
  }
}
