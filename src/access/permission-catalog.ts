/**
 * The permission catalog and the built-in roles, as the product documents them. The database
 * holds the same (seeded by migrations, which are frozen); a test keeps the two equal.
 */
export const PERMISSION_KEYS = [
  'org.read',
  'org.update',
  'org.delete',
  'members.read',
  'members.invite',
  'members.update_role',
  'members.remove',
  'roles.read',
  'roles.manage',
  'flags.read',
  'flags.manage',
  'audit.read',
  'apikeys.manage',
  'webhooks.manage',
] as const

export type PermissionKey = (typeof PERMISSION_KEYS)[number]

export const BUILTIN_ROLES: readonly {key: string; level: number; permissions: readonly PermissionKey[]}[] = [
  {key: 'owner', level: 4, permissions: PERMISSION_KEYS},
  {key: 'admin', level: 3, permissions: PERMISSION_KEYS.filter((key) => key !== 'org.delete')},
  {key: 'member', level: 2, permissions: ['org.read', 'members.read', 'members.invite', 'roles.read', 'flags.read']},
  {key: 'viewer', level: 1, permissions: ['org.read', 'members.read', 'roles.read', 'flags.read']},
]

/** Custom roles rank below owner: 1 (like viewer) to 3 (like admin). */
export const CUSTOM_ROLE_MAX_LEVEL = 3
