import {listMigrations} from '../../src/db/migrations.js'
import {BaseCommand} from '../lib/base-command.js'
import {renderTable} from '../lib/render-table.js'

export default class MigrateStatus extends BaseCommand<typeof MigrateStatus> {
  static override summary = 'List migrations and whether each has been applied'

  async run() {
    const database = await this.openDatabaseAsIs()
    const migrations = (await listMigrations(database.db)).map((migration) => ({...migration, state: migration.executedAt ? 'applied' : 'pending'}))
    this.log(renderTable(migrations, [
      {header: 'migration', value: (migration) => migration.name},
      {header: 'state', value: (migration) => migration.state},
      {header: 'applied at', value: (migration) => migration.executedAt},
    ]))
    return migrations
  }
}
