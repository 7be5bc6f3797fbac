import {escapeControlCharacters} from '../shared/display-text.js'
import type {Change, Plan} from './plan-types.js'

const SYMBOLS = {create: '+', update: '~', delete: '-'} as const

/** A value as the plan shows it. */
function shown(value: unknown): string {
  if (value === null || value === undefined) return 'none'
  if (Array.isArray(value)) return value.length === 0 ? '[]' : value.join(',')
  if (typeof value === 'string') return value
  return JSON.stringify(value)
}

function addressOf(change: Change): string {
  const kind = change.kind === 'flag_override' ? 'flag override' : change.kind
  return change.org === null || change.kind === 'org' ? `${kind} ${change.name}` : `${kind} ${change.org}/${change.name}`
}

function detailOf(change: Change): string {
  if (change.action === 'update') {
    return Object.entries(change.changes ?? {})
      .map(([field, {from, to}]) => `${field} ${shown(from)} → ${shown(to)}`)
      .join(', ')
  }
  if (change.action === 'create') {
    const fields = Object.entries(change.fields ?? {}).filter(([, value]) => value !== undefined && value !== null)
    return fields.length === 0 ? '' : `(${fields.map(([field, value]) => `${field} ${shown(value)}`).join(', ')})`
  }
  return ''
}

/** One line per change, Terraform-style: `+ org acme (tier enterprise)`, `~ member acme/bob@x role admin → owner`. */
export function renderChange(change: Change): string {
  const detail = detailOf(change)
  return escapeControlCharacters(`${SYMBOLS[change.action]} ${addressOf(change)}${detail ? ` ${detail}` : ''}`)
}

/** "Plan: 3 to create, 1 to update, 0 to delete." or "No changes." */
export function renderSummary(plan: Plan): string {
  if (plan.changes.length === 0) return 'No changes.'
  const {create, update, delete: remove} = plan.summary
  return `Plan: ${create} to create, ${update} to update, ${remove} to delete.`
}

export function renderPlan(plan: Plan): string[] {
  return [...plan.changes.map(renderChange), ...plan.warnings.map((warning) => `! ${escapeControlCharacters(warning)}`), renderSummary(plan)]
}
