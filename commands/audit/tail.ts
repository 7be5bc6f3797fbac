import {setTimeout as sleep} from 'node:timers/promises'
import {Flags} from '@oclif/core'
import type {AuditEvent, AuditFilter} from '../../src/audit/audit-log.js'
import {parseSince} from '../../src/audit/parse-since.js'
import type {Core} from '../../src/core.js'
import {isDomainError} from '../../src/errors/domain-error.js'
import {looksLikeId} from '../../src/tenancy/org-schemas.js'
import {toJsonShape} from '../../src/shared/json-shape.js'
import {BaseCommand} from '../lib/base-command.js'
import {formatAuditLine} from './render.js'

/** Well inside the promise that events from other processes show within 2 seconds. */
const FOLLOW_POLL_MILLISECONDS = 500
/** Events read per poll at most. */
const FOLLOW_PAGE = 500

export default class AuditTail extends BaseCommand<typeof AuditTail> {
  static override summary = 'Print the newest audit events; with --follow, keep printing new ones'
  static override description = 'Events are printed oldest first, like tail. With --follow, events written by any process (another saas-ctl, the daemon) appear within 2 seconds, until Ctrl-C; with --json --follow, one JSON object per line.'
  static override flags = {
    lines: Flags.integer({char: 'n', description: 'How many of the newest events', default: 20, min: 0, max: 10_000}),
    org: Flags.string({description: 'Only events of this organization (slug or id)'}),
    actor: Flags.string({description: 'Only events by this actor (id or name)'}),
    action: Flags.string({description: 'Only this action (org.created) or family (org.*)'}),
    since: Flags.string({description: 'Only events since an ISO time or a duration back (15m, 2h, 7d)'}),
    follow: Flags.boolean({char: 'f', description: 'Keep printing new events until interrupted'}),
  }

  async run() {
    const filter = await this.buildFilter()
    const core = await this.openCore()
    if (!this.flags.follow) {
      const events = await core.audit.listEvents(filter, this.flags.lines)
      // --json prints the events as they are; names are for reading (one lookup per page).
      if (!this.jsonEnabled()) {
        const names = await core.auditNames.namesOf(events)
        for (const event of events) this.log(formatAuditLine(event, names))
      }
      return events
    }
    // Follow from a fixed position, so no event is printed twice or skipped between the two reads.
    const newestSeq = await core.audit.latestSeq()
    const events = await core.audit.listEvents({...filter, throughSeq: newestSeq}, this.flags.lines)
    await this.printFollowed(core, events)
    let afterSeq = newestSeq
    const stop = new AbortController()
    const onSignal = () => stop.abort()
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    try {
      while (!stop.signal.aborted) {
        // Bounded by the newest position read first, and the next read starts after it: a
        // filter that rarely matches does not make each poll scan further back.
        const throughSeq = await core.audit.latestSeq()
        if (throughSeq > afterSeq) {
          const fresh = await core.audit.listEventsAfter({...filter, afterSeq, throughSeq}, FOLLOW_PAGE)
          await this.printFollowed(core, fresh)
          // A full page: the rest is read from its last event straight away.
          afterSeq = fresh.length === FOLLOW_PAGE ? fresh.at(-1)!.seq : throughSeq
          if (fresh.length === FOLLOW_PAGE) continue
        }
        await sleep(FOLLOW_POLL_MILLISECONDS, undefined, {signal: stop.signal}).catch(() => {})
      }
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
    return undefined
  }

  private async buildFilter(): Promise<AuditFilter> {
    const filter: AuditFilter = {actor: this.flags.actor, action: this.flags.action}
    if (this.flags.since) filter.since = parseSince(this.flags.since, new Date())
    if (this.flags.org) filter.orgId = await this.resolveOrgId(this.flags.org)
    return filter
  }

  /** A live or deleted org by slug or id; an unknown value is taken as the id of a purged org, whose events remain. */
  private async resolveOrgId(ref: string): Promise<string> {
    const core = await this.openCore()
    try {
      return (await core.orgs.showOrg(this.actor(), {org: ref})).id
    } catch (error) {
      if (isDomainError(error) && error.code === 'org.not_found' && looksLikeId(ref)) return ref
      throw error
    }
  }

  private async printFollowed(core: Core, events: AuditEvent[]): Promise<void> {
    if (events.length === 0) return
    if (this.jsonEnabled()) {
      for (const event of events) process.stdout.write(`${JSON.stringify(toJsonShape(event))}\n`)
      return
    }
    const names = await core.auditNames.namesOf(events)
    for (const event of events) process.stdout.write(`${formatAuditLine(event, names)}\n`)
  }
}
