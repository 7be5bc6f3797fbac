import type {Member} from '../../src/access/member-service.js'
import {renderRecord, renderTable} from '../lib/render-table.js'

export function renderMember(member: Member): string {
  return renderRecord([
    ['user id', member.userId],
    ['email', member.email],
    ['name', member.name],
    ['role', member.role],
    ['status', member.status],
    ['joined', member.joinedAt],
  ])
}

export function renderMembers(members: Member[]): string {
  return renderTable(members, [
    {header: 'email', value: (member) => member.email},
    {header: 'name', value: (member) => member.name},
    {header: 'role', value: (member) => member.role},
    {header: 'status', value: (member) => member.status},
    {header: 'joined', value: (member) => member.joinedAt},
    {header: 'user id', value: (member) => member.userId},
  ])
}
