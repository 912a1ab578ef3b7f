/**
 * `npm run diff` without AWS credentials: one line saying what cdk diff needs, exit 5, instead of
 * CDK's generic account error once per stack. Real process, an empty AWS configuration.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { NO_CREDENTIALS } from '../../bin/diff';

const root = resolve(__dirname, '..', '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const run = promisify(execFile);

function withoutCredentials(dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir };
  return {
    ...env,
    AWS_CONFIG_FILE: join(dir, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_REGION: 'eu-west-1',
  };
}

async function diff(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(tsx, ['bin/diff.ts', ...args], { cwd: root, env });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

let home: string;
beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'notes-diff-'));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

test('without credentials it prints one line naming what diff needs and exits 5, before any synth', async () => {
  const res = await diff(['NotesStack-dev'], withoutCredentials(home));

  expect(res.code).toBe(5);
  expect(res.stderr.trim().split('\n')).toEqual([NO_CREDENTIALS]);
  expect(NO_CREDENTIALS).toContain('needs AWS credentials for the account they are deployed to');
  expect(res.stderr).not.toContain('Unable to resolve AWS account');
});

test('--help says what it needs, offline, exit 0', async () => {
  const res = await diff(['--help'], withoutCredentials(home));

  expect(res.code).toBe(0);
  expect(res.stdout).toContain('Usage: npm run diff');
  expect(res.stdout).toContain('needs AWS credentials');
});
