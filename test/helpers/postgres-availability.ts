/** Whether the Postgres suites run: only when SAASCTL_TEST_POSTGRES_URL names a server. */
export const TEST_POSTGRES_URL = process.env.SAASCTL_TEST_POSTGRES_URL || undefined
export const IS_CI = process.env.CI === 'true'
