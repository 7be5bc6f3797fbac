import {BaseCommand} from '../lib/base-command.js'

export default class AuditHead extends BaseCommand<typeof AuditHead> {
  static override summary = 'Print the head of the audit chain, <seq>:<hash>, to keep outside the database'
  static override description =
    'Kept elsewhere (another host, a ticket, a log shipper), the head lets `audit verify --head <seq>:<hash>` catch what the signed checkpoint alone cannot: the database rolled back together with an older checkpoint. Prints nothing for an empty log.'

  async run() {
    const core = await this.openCore()
    const head = await core.audit.head()
    if (head) this.log(`${head.seq}:${head.hash}`)
    return {head}
  }
}
