/** Every action the audit log records. A new kind of state change adds its action here. */
export const AUDIT_ACTIONS = [
  'org.created',
  'org.updated',
  'org.deleted',
  'org.restored',
  'org.purged',
  'user.created',
  'user.updated',
  'user.disabled',
  'user.enabled',
  'user.deleted',
  'member.added',
  'member.role_updated',
  'member.removed',
  'role.created',
  'role.updated',
  'role.deleted',
  'flag.created',
  'flag.updated',
  'flag.override_set',
  'flag.deleted',
] as const

export type AuditAction = (typeof AUDIT_ACTIONS)[number]
