import {migrateToLatest} from '../../src/db/migrations.js'
import {describeDatabaseTarget} from '../../src/db/database-url.js'
import {BaseCommand} from '../lib/base-command.js'

export default class MigrateUp extends BaseCommand<typeof MigrateUp> {
  static override summary = 'Apply every pending migration'

  async run() {
    const database = await this.openDatabaseAsIs()
    const applied = await migrateToLatest(database.db)
    this.log(applied.length === 0 ? `${describeDatabaseTarget(database.target)} is up to date` : `Applied ${applied.join(', ')}`)
    return {applied}
  }
}
