import {BaseCommand} from '../lib/base-command.js'
import {renderTable} from '../lib/render-table.js'

export default class PermissionList extends BaseCommand<typeof PermissionList> {
  static override summary = 'List the permission catalog that roles are made of'

  async run() {
    const core = await this.openCore()
    const permissions = await core.roles.listPermissions()
    this.log(renderTable(permissions, [
      {header: 'key', value: (permission) => permission.key},
      {header: 'description', value: (permission) => permission.description},
    ]))
    return permissions
  }
}
