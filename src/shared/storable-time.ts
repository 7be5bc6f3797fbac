/**
 * Whether both databases can compare against the time: years 1 to 9999. Postgres has no year 0
 * and refuses the extended years (`-017197-…`) JavaScript prints beyond them.
 */
export function isStorableTime(time: Date): boolean {
  const year = time.getUTCFullYear()
  return !Number.isNaN(time.getTime()) && year >= 1 && year <= 9999
}
