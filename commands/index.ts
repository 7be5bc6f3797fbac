import ApiKeyCreate from './apikey/create.js'
import ApiKeyList from './apikey/list.js'
import ApiKeyRevoke from './apikey/revoke.js'
import Apply from './apply.js'
import AuditExport from './audit/export.js'
import AuditHead from './audit/head.js'
import AuditSignHead from './audit/sign-head.js'
import AuditTail from './audit/tail.js'
import AuditVerify from './audit/verify.js'
import Backup from './backup.js'
import ConfigShow from './config.js'
import Doctor from './doctor.js'
import Export from './export.js'
import FlagCreate from './flag/create.js'
import FlagDelete from './flag/delete.js'
import FlagEval from './flag/eval.js'
import FlagList from './flag/list.js'
import FlagOverride from './flag/override.js'
import FlagSet from './flag/set.js'
import FlagShow from './flag/show.js'
import FlagToggle from './flag/toggle.js'
import JobsList from './jobs/list.js'
import JobsRun from './jobs/run.js'
import KeysList from './keys/list.js'
import KeysRevoke from './keys/revoke.js'
import KeysRotate from './keys/rotate.js'
import MailList from './mail/list.js'
import MailRetry from './mail/retry.js'
import MailTest from './mail/test.js'
import InviteList from './invite/list.js'
import InviteResend from './invite/resend.js'
import InviteRevoke from './invite/revoke.js'
import MemberAdd from './member/add.js'
import MemberInvite from './member/invite.js'
import MemberList from './member/list.js'
import MemberRemove from './member/remove.js'
import MemberSetRole from './member/set-role.js'
import MigrateDown from './migrate/down.js'
import MigrateStatus from './migrate/status.js'
import MigrateUp from './migrate/up.js'
import OrgCreate from './org/create.js'
import OrgDelete from './org/delete.js'
import OrgLimits from './org/limits.js'
import OrgList from './org/list.js'
import OrgRestore from './org/restore.js'
import OrgShow from './org/show.js'
import OrgUpdate from './org/update.js'
import PermissionList from './permission/list.js'
import Restore from './restore.js'
import RoleCreate from './role/create.js'
import RoleDelete from './role/delete.js'
import RoleList from './role/list.js'
import RoleShow from './role/show.js'
import RoleUpdate from './role/update.js'
import Serve from './serve.js'
import SessionList from './session/list.js'
import SessionRevoke from './session/revoke.js'
import Tui from './tui.js'
import User2faEnroll from './user/2fa/enroll.js'
import User2faReset from './user/2fa/reset.js'
import UserCreate from './user/create.js'
import UserDelete from './user/delete.js'
import UserDisable from './user/disable.js'
import UserEnable from './user/enable.js'
import UserList from './user/list.js'
import UserShow from './user/show.js'
import UserUnlock from './user/unlock.js'
import UserUpdate from './user/update.js'
import WebhookCreate from './webhook/create.js'
import WebhookDelete from './webhook/delete.js'
import WebhookDelivery from './webhook/delivery.js'
import WebhookDeliveries from './webhook/deliveries.js'
import WebhookList from './webhook/list.js'
import WebhookReplay from './webhook/replay.js'
import WebhookRotateSecret from './webhook/rotate-secret.js'
import WebhookTest from './webhook/test.js'
import WebhookUpdate from './webhook/update.js'

/** Every command, by its id (topics separated by ":"; typed with spaces). */
export const COMMANDS = {
  'apikey:create': ApiKeyCreate,
  'apikey:list': ApiKeyList,
  'apikey:revoke': ApiKeyRevoke,
  apply: Apply,
  'audit:export': AuditExport,
  'audit:head': AuditHead,
  'audit:sign-head': AuditSignHead,
  'audit:tail': AuditTail,
  'audit:verify': AuditVerify,
  backup: Backup,
  config: ConfigShow,
  doctor: Doctor,
  export: Export,
  'flag:create': FlagCreate,
  'flag:delete': FlagDelete,
  'flag:eval': FlagEval,
  'flag:list': FlagList,
  'flag:override': FlagOverride,
  'flag:set': FlagSet,
  'flag:show': FlagShow,
  'flag:toggle': FlagToggle,
  'jobs:list': JobsList,
  'jobs:run': JobsRun,
  'keys:list': KeysList,
  'keys:revoke': KeysRevoke,
  'keys:rotate': KeysRotate,
  'mail:list': MailList,
  'mail:retry': MailRetry,
  'mail:test': MailTest,
  'invite:list': InviteList,
  'invite:resend': InviteResend,
  'invite:revoke': InviteRevoke,
  'member:add': MemberAdd,
  'member:invite': MemberInvite,
  'member:list': MemberList,
  'member:remove': MemberRemove,
  'member:set-role': MemberSetRole,
  'migrate:down': MigrateDown,
  'migrate:status': MigrateStatus,
  'migrate:up': MigrateUp,
  'org:create': OrgCreate,
  'org:delete': OrgDelete,
  'org:limits': OrgLimits,
  'org:list': OrgList,
  'org:restore': OrgRestore,
  'org:show': OrgShow,
  'org:update': OrgUpdate,
  'permission:list': PermissionList,
  restore: Restore,
  'role:create': RoleCreate,
  'role:delete': RoleDelete,
  'role:list': RoleList,
  'role:show': RoleShow,
  'role:update': RoleUpdate,
  serve: Serve,
  'session:list': SessionList,
  'session:revoke': SessionRevoke,
  tui: Tui,
  'user:2fa:enroll': User2faEnroll,
  'user:2fa:reset': User2faReset,
  'user:create': UserCreate,
  'user:delete': UserDelete,
  'user:disable': UserDisable,
  'user:enable': UserEnable,
  'user:list': UserList,
  'user:show': UserShow,
  'user:unlock': UserUnlock,
  'user:update': UserUpdate,
  'webhook:create': WebhookCreate,
  'webhook:delete': WebhookDelete,
  'webhook:delivery': WebhookDelivery,
  'webhook:deliveries': WebhookDeliveries,
  'webhook:list': WebhookList,
  'webhook:replay': WebhookReplay,
  'webhook:rotate-secret': WebhookRotateSecret,
  'webhook:test': WebhookTest,
  'webhook:update': WebhookUpdate,
}
