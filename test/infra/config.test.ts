/**
 * A bad value in the `notes` configuration (or the release context) stops the synth with a message
 * that names the key and says what is wrong, before any stack is built.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as configModule from '../../lib/config';
import { buildTestApp, cdkJsonContext, REPO_ROOT, repoConfig } from './fixture';

function withEnvironment(index: number, change: Record<string, unknown>): unknown {
  const config = repoConfig();
  return { ...config, environments: config.environments.map((e, i) => (i === index ? { ...e, ...change } : e)) };
}

test('a PITR window over 35 days fails with the key and the limit', () => {
  // Arrange
  const notes = withEnvironment(1, { pitrRecoveryPeriodDays: 36 });

  // Act
  const build = () => buildTestApp({ notes });

  // Assert
  expect(build).toThrow(/notes\.environments\[1\]\.pitrRecoveryPeriodDays: .*35/);
});

test('a log retention CloudWatch does not offer fails with the key', () => {
  const build = () => buildTestApp({ notes: withEnvironment(0, { logRetentionDays: 31 }) });
  expect(build).toThrow(/notes\.environments\[0\]\.logRetentionDays/);
});

test('a malformed release version fails with the context key', () => {
  const build = () => buildTestApp({ context: { releaseVersion: 'v1.2' } });
  expect(build).toThrow(/releaseVersion: must be a semantic version such as 1\.2\.3 \(got "v1\.2"\)/);
});

test('the CDK app itself (bin/app.ts) exits non-zero and prints the key when a value is bad', () => {
  // Arrange: what `cdk synth` hands the app: cdk.json context (one value broken) and an output dir.
  const outdir = mkdtempSync(join(tmpdir(), 'notes-bad-config-'));
  const context = { ...cdkJsonContext(), notes: withEnvironment(0, { throttle: { rateLimit: 50, burstLimit: 10 } }) };

  try {
    // Act
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'bin/app.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: outdir },
      encoding: 'utf8',
      timeout: 60_000,
    });

    // Assert
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('notes.environments[0].throttle: burstLimit must be at least rateLimit');
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
});

describe('layouts', () => {
  it('reads the three-account example with -c layout=three-accounts, and the quick start without it', () => {
    const { configFromContext } = configModule;
    const context = cdkJsonContext();
    const quickStart = configFromContext(context);
    const three = configFromContext({ ...context, layout: 'three-accounts' });
    expect(quickStart.pipeline.account).toBeUndefined();
    expect(quickStart.environments.map((e) => e.account)).toEqual([undefined, undefined]);
    expect(three.pipeline.account).toBe('111111111111');
    expect(three.environments.map((e) => [e.name, e.account])).toEqual([['dev', '222222222222'], ['prod', '333333333333']]);
  });

  it('stops on a layout that cdk.json does not hold, naming the ones it does', () => {
    const { configFromContext } = configModule;
    expect(() => configFromContext(cdkJsonContext(), 'four-accounts')).toThrow(
      'No "notes:four-accounts" entry in cdk.json context for layout "four-accounts" (layouts: three-accounts; the default is "notes").',
    );
    expect(() => configFromContext(cdkJsonContext(), '../etc')).toThrow('"layout" context must be a layout name');
  });

  it('synthesizes the three-account layout: every stack in its own account, the pipeline in the tooling account', () => {
    const { app } = buildTestApp({ layout: 'three-accounts' });
    const assembly = app.synth();
    const accountOf = (name: string) => assembly.getStackByName(name).environment.account;
    expect(accountOf('NotesPipeline')).toBe('111111111111');
    expect(accountOf('NotesStack-dev')).toBe('222222222222');
    expect(accountOf('NotesStack-prod')).toBe('333333333333');
  });
});

test('an environment with an account needs the pipeline\'s account too, naming the key', () => {
  const notes = structuredClone(repoConfig()) as unknown as { environments: { account?: string }[] };
  notes.environments[1].account = '333333333333';
  expect(() => configModule.parseConfig(notes)).toThrow('notes.pipeline.account: is required when an environment names its account');
});
