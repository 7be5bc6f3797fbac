import OrgCreate from './org/create.js'
import OrgDelete from './org/delete.js'
import OrgList from './org/list.js'
import OrgRestore from './org/restore.js'
import OrgShow from './org/show.js'
import OrgUpdate from './org/update.js'

/** Every command, by its id (topics separated by ":"; typed with spaces). */
export const COMMANDS = {
  'org:create': OrgCreate,
  'org:delete': OrgDelete,
  'org:list': OrgList,
  'org:restore': OrgRestore,
  'org:show': OrgShow,
  'org:update': OrgUpdate,
}
