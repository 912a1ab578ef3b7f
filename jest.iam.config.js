/**
 * The IAM contract phase of `npm test` (test/iam): runs after the other suites, whose AWS SDK calls
 * test/iam/support/record-calls.ts recorded in .iam-calls/. See docs/02-cicd.md "IAM contract tests".
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/iam'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  testTimeout: 60_000,
  maxWorkers: 2,
};
