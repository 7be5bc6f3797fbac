/** One object the apply creates, changes or deletes: what `--dry-run` prints and `--json` returns. */
export type ChangeAction = 'create' | 'update' | 'delete'
export type ChangeKind = 'user' | 'flag' | 'org' | 'role' | 'member' | 'flag_override' | 'apikey'

export interface FieldChange {
  from: unknown
  to: unknown
}

export interface Change {
  action: ChangeAction
  kind: ChangeKind
  /** The organization (slug) it belongs to; null for users and flag definitions. */
  org: string | null
  /** The object's name in the file: an email, a slug, a role or flag key, a key's name. */
  name: string
  /** create: the values written; delete: what identifies it. */
  fields?: Record<string, unknown>
  /** update: each field that changes. */
  changes?: Record<string, FieldChange>
}

export interface Plan {
  /** In the order they are applied: users and flag definitions, then each organization's. */
  changes: Change[]
  /** What the file says that apply leaves as it is (an existing key differing from the file). */
  warnings: string[]
  summary: {create: number; update: number; delete: number}
}

export function summarize(changes: Change[]): Plan['summary'] {
  const summary = {create: 0, update: 0, delete: 0}
  for (const change of changes) summary[change.action]++
  return summary
}
