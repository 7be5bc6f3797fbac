import type {Core} from '../core.js'
import {nowIso} from '../shared/service-deps.js'
import type {DesiredState} from './desired-state-schema.js'
import {parseProvisioningFile} from './parse-provisioning-file.js'
import {planProvisioning, readCurrentState} from './plan-provisioning.js'
import type {Plan} from './plan-types.js'
import {invalidFileError} from './provisioning-problems.js'

export interface FilePlan {
  desired: DesiredState
  plan: Plan
}

/**
 * Parses, validates and plans a provisioning file against the database, before anything is
 * written. Raises provisioning.invalid listing every problem found (syntax, schema, references).
 */
export async function planFile(core: Core, input: {yaml: typeof import('yaml'); text: string; file: string; prune: boolean}): Promise<FilePlan> {
  const parsed = parseProvisioningFile(input.yaml, input.text)
  if (!parsed.ok) throw invalidFileError(input.file, parsed.problems)
  const now = nowIso(core)
  const current = await readCurrentState(core.database.db, parsed.state, now)
  const {plan, problems} = planProvisioning(parsed.state, current, {prune: input.prune, tiers: core.tiers, now}, parsed.locate)
  if (problems.length > 0) throw invalidFileError(input.file, problems)
  return {desired: parsed.state, plan}
}

export {applyPlan, type ApplyOutcome, type CreatedSecret} from './apply-plan.js'
export {exportState} from './export-state.js'
export {renderPlan, renderSummary, renderChange} from './plan-text.js'
export type {Change, Plan} from './plan-types.js'
