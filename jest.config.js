/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The IAM contract tests are the second phase (jest.iam.config.js): they read what this phase records.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/iam/'],
  setupFilesAfterEnv: ['<rootDir>/test/iam/support/record-calls.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  testTimeout: 60_000,
  // Tests start real servers on loopback ports; keep the worker count modest on small machines.
  maxWorkers: 2,
};
