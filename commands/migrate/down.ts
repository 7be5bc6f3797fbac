import {Flags} from '@oclif/core'
import {migrateDownOne} from '../../src/db/migrations.js'
import {BaseCommand} from '../lib/base-command.js'
import {confirmOrRefuse} from '../lib/confirm.js'

export default class MigrateDown extends BaseCommand<typeof MigrateDown> {
  static override summary = 'Revert the newest applied migration (one step)'
  static override flags = {
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation'}),
  }

  async run() {
    const database = await this.openDatabaseAsIs()
    await confirmOrRefuse('Revert the newest migration? Data in the tables it created is lost.', this.flags.yes)
    const reverted = await migrateDownOne(database.db)
    this.log(`Reverted ${reverted.join(', ')}`)
    return {reverted}
  }
}
