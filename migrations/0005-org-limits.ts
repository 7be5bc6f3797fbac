import type {Kysely} from 'kysely'

// Frozen in time. Per-organization overrides of the limits its tier gives: seats (members plus
// pending invitations) and requests per minute. NULL: the tier's default.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('organization').addColumn('seat_limit', 'integer').execute()
  await db.schema.alterTable('organization').addColumn('rpm_limit', 'integer').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('organization').dropColumn('rpm_limit').execute()
  await db.schema.alterTable('organization').dropColumn('seat_limit').execute()
}
