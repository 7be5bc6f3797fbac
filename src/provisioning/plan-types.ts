import type {OrgTier} from '../tenancy/org-repo.js'
import type {Limit} from './current-state.js'

/** One object the apply creates, changes or deletes: what `--dry-run` prints and `--json` returns. */
export type ChangeAction = 'create' | 'update' | 'delete'
export type ChangeKind = 'user' | 'flag' | 'org' | 'role' | 'member' | 'flag_override' | 'apikey'

/** A field's value before and after. */
export type FieldChange<From = unknown, To = From> = {
  from: From
  to: To
}

type OnOff = 'on' | 'off'

/**
 * What each kind of change carries: `create` the values written, `update` each field that
 * changes, `delete` what identifies it (never: the kind is not deleted). Typed so that the
 * apply passes them to the services without casts.
 */
type Shapes = {
  user: {create: {name?: string; disabled?: true}; update: {name?: FieldChange<string | null, string>; disabled?: FieldChange<boolean>}; delete: never}
  flag: {create: {description?: string; default: OnOff; rollout: number | null}; update: {description?: FieldChange<string | null, string>; default?: FieldChange<OnOff>; rollout?: FieldChange<number | null>}; delete: never}
  org: {
    create: {name: string; tier: OrgTier; domain?: string; require_2fa?: true; seats?: Exclude<Limit, null>; rpm?: Exclude<Limit, null>}
    update: {name?: FieldChange<string>; tier?: FieldChange<string, OrgTier>; domain?: FieldChange<string | null>; require_2fa?: FieldChange<boolean>; seats?: FieldChange<Limit>; rpm?: FieldChange<Limit>}
    delete: never
  }
  role: {create: {name: string; level: number; permissions: string[]}; update: {name?: FieldChange<string>; level?: FieldChange<number>; permissions?: FieldChange<string[]>}; delete: Record<string, never>}
  member: {create: {role: string}; update: {role: FieldChange<string>}; delete: {role: string}}
  flag_override: {create: {value: OnOff}; update: {value: FieldChange<OnOff>}; delete: {value: OnOff}}
  apikey: {create: {role?: string; permissions?: string[]; expires_at?: string}; update: never; delete: {id: string}}
}

/** The values a create of this kind writes. */
export type CreateFields<Kind extends ChangeKind> = Shapes[Kind]['create']
/** The fields an update of this kind changes. */
export type UpdateFields<Kind extends ChangeKind> = Shapes[Kind]['update']

type ChangeOf<Kind extends ChangeKind, Action extends ChangeAction> = {
  action: Action
  kind: Kind
  /** The organization (slug) it belongs to; null for users and flag definitions. */
  org: string | null
  /** The object's name in the file: an email, a slug, a role or flag key, a key's name. */
  name: string
} & (Action extends 'update' ? {fields?: undefined; changes: Shapes[Kind]['update']} : {fields: Shapes[Kind][Action]; changes?: undefined})

/** One object the apply creates, changes or deletes. */
export type Change = {[Kind in ChangeKind]: {[Action in ChangeAction]: [Shapes[Kind][Action]] extends [never] ? never : ChangeOf<Kind, Action>}[ChangeAction]}[ChangeKind]

/** The changes of one kind. */
export type ChangeOfKind<Kind extends ChangeKind> = Extract<Change, {kind: Kind}>

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
