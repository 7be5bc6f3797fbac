import type {Core} from '../core.js'
import {nowIso} from '../shared/service-deps.js'
import type {DesiredState} from './desired-state-schema.js'
import {parseProvisioningFile, type ParsedFile} from './parse-provisioning-file.js'
import {planProvisioning, readCurrentState} from './plan-provisioning.js'
import type {Plan} from './plan-types.js'
import {invalidFileError} from './provisioning-problems.js'

export interface FilePlan {
  desired: DesiredState
  plan: Plan
}

/** A file parsed and checked against the schema (before any database is opened). */
export type CheckedFile = Extract<ParsedFile, {ok: true}> & {file: string}

/**
 * Parses a provisioning file and checks it against the schema; needs no database (apply
 * --dry-run of a broken file opens none). Raises provisioning.invalid listing every problem.
 */
export function checkFile(input: {yaml: typeof import('yaml'); text: string; file: string}): CheckedFile {
  const parsed = parseProvisioningFile(input.yaml, input.text)
  if (!parsed.ok) throw invalidFileError(input.file, parsed.problems)
  return {...parsed, file: input.file}
}

/**
 * Plans a checked file against the database, before anything is written. The plan is read
 * before the transactions that apply it: a change made meanwhile by someone else makes the
 * service refuse (that organization rolls back) or is overwritten as the file says.
 * Raises provisioning.invalid listing every problem of references.
 */
export async function planChecked(core: Core, checked: CheckedFile, options: {prune: boolean}): Promise<FilePlan> {
  const now = nowIso(core)
  const current = await readCurrentState(core.database.db, checked.state, {now, tiers: core.tiers})
  const {plan, problems} = planProvisioning(checked.state, current, {prune: options.prune, tiers: core.tiers, now}, checked.locate)
  if (problems.length > 0) throw invalidFileError(checked.file, problems)
  return {desired: checked.state, plan}
}

/** Parses, validates and plans a provisioning file: checkFile, then planChecked. */
export async function planFile(core: Core, input: {yaml: typeof import('yaml'); text: string; file: string; prune: boolean}): Promise<FilePlan> {
  return planChecked(core, checkFile(input), {prune: input.prune})
}

export {applyPlan, isPartiallyApplied, type ApplyOutcome, type CreatedSecret} from './apply-plan.js'
export {exportState} from './export-state.js'
export {renderPlan, renderSummary, renderChange} from './plan-text.js'
export type {Change, Plan} from './plan-types.js'
