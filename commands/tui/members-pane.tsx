import {Box, Text} from 'ink'
import type {Member} from '../../src/access/membership-repo.js'
import type {Invitation} from '../../src/invitations/invitation-repo.js'
import {ListView, useCursor} from './list-view.js'
import {SELECT_AN_ORG, type PaneUi} from './pane-ui.js'
import {column, fitLine} from './text.js'
import {useLoad} from './use-load.js'

type MemberRow = {kind: 'member'; member: Member} | {kind: 'invitation'; invitation: Invitation}

/** The selected organization's members, then its pending invitations: invite, change role, remove. */
export function MembersPane({ui}: {ui: PaneUi}) {
  const org = ui.org
  const {data, error, reload} = useLoad(async (): Promise<MemberRow[]> => {
    if (!org) return []
    const {items} = await ui.core.members.listMembers(ui.actor, {org: org.id})
    const invitations = await ui.core.invitations.listInvitations(ui.actor, {org: org.id})
    return [
      ...items.map((member) => ({kind: 'member' as const, member})),
      ...invitations.filter((invitation) => invitation.status === 'pending').map((invitation) => ({kind: 'invitation' as const, invitation})),
    ]
  }, `members:${org?.id ?? ''}:${org?.memberCount ?? ''}`)
  const rows = data ?? []
  const listHeight = ui.height - 1
  const cursor = useCursor(rows, listHeight - 1, (row) => (row.kind === 'member' ? `member:${row.member.userId}` : `invitation:${row.invitation.id}`))

  async function invite() {
    if (!org) return
    const email = await ui.ask(`Invite to ${org.slug}, email:`)
    if (!email) return
    const role = await ui.ask('Role (owner, admin, member, viewer or custom):', 'member')
    if (!role) return
    const issued = await ui.run(
      () => ui.core.invitations.invite(ui.actor, {org: org.id, email, role}),
      ({invitation}) => `Invited ${invitation.email} as ${invitation.role}`,
    )
    if (!issued) return
    reload()
    // The link is the one way to hand the invitation over: shown whole, not cut in the status line.
    if (issued.acceptUrl) ui.show(`Invited ${issued.invitation.email} as ${issued.invitation.role} to ${org.slug}.\n\nAccept link (give it to them):\n${issued.acceptUrl}\n\nAny key closes this.`)
  }

  async function changeRole(member: Member) {
    if (!org) return
    const role = await ui.ask(`New role of ${member.email} (now ${member.role}):`)
    if (!role || role === member.role) return
    const changed = await ui.run(
      () => ui.core.members.setMemberRole(ui.actor, {org: org.id, user: member.userId, role}),
      (updated) => `${updated.email} is now ${updated.role}`,
    )
    if (changed) reload()
  }

  async function remove(row: MemberRow) {
    if (!org) return
    if (row.kind === 'member') {
      if (!(await ui.confirm(`Remove ${row.member.email} from ${org.slug}?`))) return
      const removed = await ui.run(
        () => ui.core.members.removeMember(ui.actor, {org: org.id, user: row.member.userId}),
        (result) => `Removed ${result.email} from ${org.slug}`,
      )
      if (removed) reload()
      return
    }
    if (!(await ui.confirm(`Revoke the invitation of ${row.invitation.email}?`))) return
    const revoked = await ui.run(
      () => ui.core.invitations.revokeInvitation(ui.actor, {org: org.id, id: row.invitation.id}),
      (invitation) => `Revoked the invitation of ${invitation.email}`,
    )
    if (revoked) reload()
  }

  ui.keys((input, key) => {
    if (!org || cursor.handleKey(input, key)) return
    const under = rows[cursor.currentIndex()]
    if (input === 'i') void invite()
    else if (input === 'e' && under?.kind === 'member') void changeRole(under.member)
    else if (input === 'e' && under) ui.notify('An invitation keeps its role: revoke it and invite again')
    else if (input === 'x' && under) void remove(under)
  })

  if (!org) return <Text wrap="truncate">{fitLine(SELECT_AN_ORG, ui.width)}</Text>
  const lines = rows.map((row) =>
    row.kind === 'member'
      ? `${column(row.member.email, 32)} ${column(row.member.role, 12)} ${column(row.member.status, 9)} ${row.member.joinedAt.slice(0, 10)}`
      : `${column(row.invitation.email, 32)} ${column(row.invitation.role, 12)} ${column('invited', 9)} ${row.invitation.expiresAt.slice(0, 10)}`,
  )
  const memberCount = rows.filter((row) => row.kind === 'member').length
  const summary = `${org.slug}: ${memberCount} member(s), ${rows.length - memberCount} pending invitation(s)${org.deletedAt ? ' (deleted)' : ''}`
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">{fitLine(error ?? summary, ui.width)}</Text>
      <ListView
        header={`${column('email', 32)} ${column('role', 12)} ${column('status', 9)} since/expires`}
        rows={lines}
        cursor={cursor.index}
        width={ui.width}
        height={listHeight}
        color={ui.color}
        empty={data ? 'No members (i invites someone)' : 'Loading…'}
      />
    </Box>
  )
}
