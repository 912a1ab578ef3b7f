/**
 * The target accounts' baseline stacks as synthesized: one per account and region of the
 * environments, deployable before `cdk bootstrap` (no bootstrap role, no bootstrap version rule,
 * no assets, a template CloudFormation accepts inline), named as lib/target-account.ts says, with
 * the four ARNs as outputs. What the policies allow is proven in test/iam/execution-policy.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { AssetManifestArtifact } from 'aws-cdk-lib/cx-api';
import { buildTestApp } from './fixture';
import { ResolvedStack } from '../iam/support/cfn';
import { executionPolicyName, permissionsBoundaryName, planRoleName, readerRoleName } from '../../lib/target-account';
// js-yaml (a dev dependency) has no bundled types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require('js-yaml') as { dump(value: unknown, options: { lineWidth: number }): string };

/** CloudFormation's limit for a template passed inline (TemplateBody) rather than from S3. */
const INLINE_TEMPLATE_LIMIT = 51_200;

describe.each([
  { layout: undefined, baselines: [{ name: 'NotesBaseline-dev-prod', account: undefined, serves: ['NotesStack-dev', 'NotesStack-prod'], plan: true }] },
  {
    layout: 'three-accounts',
    baselines: [
      { name: 'NotesBaseline-dev', account: '222222222222', serves: ['NotesStack-dev'], plan: false },
      { name: 'NotesBaseline-prod', account: '333333333333', serves: ['NotesStack-prod'], plan: true },
    ],
  },
])('layout $layout', ({ layout, baselines }) => {
  const outdir = mkdtempSync(join(tmpdir(), 'notes-baseline-'));
  const { app, built } = buildTestApp({ layout, outdir });
  const assembly = app.synth();
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('has one baseline stack per account and region of the environments, serving the stacks there', () => {
    expect(built.baselineStacks.map((b) => ({ name: b.stackName, serves: b.serves, account: /^\d{12}$/.test(b.account) ? b.account : undefined }))).toEqual(
      baselines.map((b) => ({ name: b.name, serves: b.serves, account: b.account })),
    );
  });

  for (const b of baselines) {
    it(`${b.name} deploys with the CLI's own credentials and needs no bootstrap: no role, no version rule, no assets, an inline template`, () => {
      const artifact = assembly.getStackByName(b.name);
      expect(artifact.assumeRoleArn).toBeUndefined();
      expect(artifact.cloudFormationExecutionRoleArn).toBeUndefined();
      expect(artifact.requiresBootstrapStackVersion).toBeUndefined();
      expect(artifact.dependencies.filter(AssetManifestArtifact.isAssetManifestArtifact)).toEqual([]);
      expect(Object.keys(artifact.assets)).toEqual([]);
      expect(artifact.template.Rules?.CheckBootstrapVersion).toBeUndefined();
      // The CLI sends a template without assets inline as YAML (its own `yaml` 1.1 dump, no line
      // width); js-yaml's dump without a line width is within a few characters of it.
      expect(yaml.dump(artifact.template, { lineWidth: -1 }).length).toBeLessThan(INLINE_TEMPLATE_LIMIT);
    });

    it(`${b.name} names its policies and roles as lib/target-account.ts does and outputs their ARNs`, () => {
      const stack = built.baselineStacks.find((s) => s.stackName === b.name)!;
      const t = Template.fromStack(stack);
      t.hasResourceProperties('AWS::IAM::ManagedPolicy', { ManagedPolicyName: executionPolicyName('notes', 'eu-west-1') });
      t.hasResourceProperties('AWS::IAM::ManagedPolicy', { ManagedPolicyName: permissionsBoundaryName('notes', 'eu-west-1') });
      t.hasResourceProperties('AWS::IAM::Role', { RoleName: readerRoleName('notes', 'eu-west-1') });
      t.resourcePropertiesCountIs('AWS::IAM::Role', { RoleName: planRoleName('notes', 'eu-west-1') }, b.plan ? 1 : 0);
      expect(Object.keys(t.toJSON().Outputs ?? {}).sort()).toEqual(
        ['ExecutionPolicyArn', 'PermissionsBoundaryArn', ...(b.plan ? ['PlanRoleArn'] : []), 'ReaderRoleArn'].sort(),
      );
    });
  }

  it('every managed policy fits IAM\'s 6,144 characters, and the execution policy output lists every part', () => {
    for (const stack of built.baselineStacks) {
      const r = new ResolvedStack(Template.fromStack(stack).toJSON() as never, { stackName: stack.stackName, account: '123456789012', region: 'eu-west-1' });
      const policies = r.ofType('AWS::IAM::ManagedPolicy').map((id) => ({ name: String(r.props(id).ManagedPolicyName), size: JSON.stringify(r.props(id).PolicyDocument).length }));
      expect(policies.filter((p) => p.size > 6144)).toEqual([]);
      const parts = stack.executionPolicies.map((_p, i) => (i === 0 ? executionPolicyName('notes', 'eu-west-1') : `${executionPolicyName('notes', 'eu-west-1')}-${i + 1}`));
      expect(policies.map((p) => p.name).filter((n) => n.startsWith(executionPolicyName('notes', 'eu-west-1')))).toEqual(parts);
      expect(String(r.output('ExecutionPolicyArn')).split(',')).toEqual(parts.map((n) => `arn:aws:iam::123456789012:policy/${n}`));
    }
  });

  it('the release roles trust the pipeline account', () => {
    const pipelineAccount = built.config.pipeline.account;
    for (const stack of built.baselineStacks) {
      const trust = stack.resolve(stack.readerRole.assumeRolePolicy!.toJSON()) as { Statement: { Principal: { AWS: unknown } }[] };
      const principal = JSON.stringify(trust.Statement[0].Principal.AWS);
      expect(principal).toContain(pipelineAccount ?? 'AWS::AccountId');
    }
  });
});
