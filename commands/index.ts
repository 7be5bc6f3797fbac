import AuditTail from './audit/tail.js'
import AuditVerify from './audit/verify.js'
import ConfigShow from './config.js'
import JobsList from './jobs/list.js'
import JobsRun from './jobs/run.js'
import KeysList from './keys/list.js'
import KeysRotate from './keys/rotate.js'
import MigrateDown from './migrate/down.js'
import MigrateStatus from './migrate/status.js'
import MigrateUp from './migrate/up.js'
import OrgCreate from './org/create.js'
import OrgDelete from './org/delete.js'
import OrgList from './org/list.js'
import OrgRestore from './org/restore.js'
import OrgShow from './org/show.js'
import OrgUpdate from './org/update.js'
import SessionList from './session/list.js'
import SessionRevoke from './session/revoke.js'

/** Every command, by its id (topics separated by ":"; typed with spaces). */
export const COMMANDS = {
  'audit:tail': AuditTail,
  'audit:verify': AuditVerify,
  config: ConfigShow,
  'jobs:list': JobsList,
  'jobs:run': JobsRun,
  'keys:list': KeysList,
  'keys:rotate': KeysRotate,
  'migrate:down': MigrateDown,
  'migrate:status': MigrateStatus,
  'migrate:up': MigrateUp,
  'org:create': OrgCreate,
  'org:delete': OrgDelete,
  'org:list': OrgList,
  'org:restore': OrgRestore,
  'org:show': OrgShow,
  'org:update': OrgUpdate,
  'session:list': SessionList,
  'session:revoke': SessionRevoke,
}
