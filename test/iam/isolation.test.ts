/**
 * Issue #11's proof: nothing that runs before an approval can reach prod. In the three-account
 * layout of cdk.json (pipeline 111111111111, dev 222222222222, prod 333333333333), with each
 * account bootstrapped as docs/02-cicd.md says (test/iam/support/world.ts, `documentedBootstrap`):
 *
 * - What runs before the approval comes from the synthesized pipelines (test/iam/support/stages.ts):
 *   every stage before notes-release's and notes-hotfix's `ApproveProd` and before notes-rollback's
 *   approval; for each action its action role, a CodeBuild action's project role, a Lambda action's
 *   function role. A step added later is covered without editing this file.
 * - Each of those roles is Denied sts:AssumeRole on every prod bootstrap role and Denied the prod
 *   resources that matter (the notes table's writes, the API function's code and live alias, the
 *   stack's updates, change sets and deletion, the smoke user's secret). The Plan steps may assume
 *   the prod plan role (`planRoleName`, defined by prod's baseline stack) and nothing else in prod.
 * - Following every role it may assume or pass (test/iam/support/reach.ts), no such role reaches a
 *   role of the prod account.
 * - Of all roles outside the prod account, exactly the deploy steps after an approval may assume
 *   the prod deploy role. The pipelines' own service roles assume exactly their actions' roles.
 * - The Build step, the only one that runs the commit's code, may assume no role at all.
 * - Pipeline artifacts stay in the pipeline account: no role of dev or prod may read them.
 * - The release operator (notes-release-operator, in the pipeline account) reads prod through the
 *   prod reader role (`readerRoleName`): what `npm run release -- status` and `rollback` read there,
 *   from the CLI's recorded calls.
 * - In the single-account layout the lack of isolation is stated as Allowed tests.
 *
 * KNOWN_HOLES lists what this proof found open on this branch (issue #11 findings), each asserted
 * as still Allowed with its reason, so the fix makes that test fail and the entry is removed.
 */
import { iamRequestsOf, IamRequest } from './support/actions';
import { BOOTSTRAP_ROLES } from './support/bootstrap';
import { expectAllowed, expectDenied, recorded } from './support/harness';
import { notesStackFacts, PIPELINE_STACK, pipelineFacts } from './support/deployed';
import { reachableFrom, Path } from './support/reach';
import { Gate, gates, rolesOf, serviceRoleOf, StepRole } from './support/stages';
import { IamWorld, Principal } from './support/world';
import { LIVE_ALIAS } from '../../lib/traffic-shift';
import { planRoleName, readerRoleName, roleArn } from '../../lib/target-account';

type BootstrapKind = keyof typeof BOOTSTRAP_ROLES;

const world = new IamWorld({ layout: 'three-accounts' });
const { config } = world.built;
const prodEnv = config.environments.find((e) => e.kind === 'production')!;
const PROD = prodEnv.account!;
const accountOf = (p: Principal) => p.arn.split(':')[4];
const prodBootstrap = world.bootstrapOf(prodEnv.region, PROD);
const pipelineBootstrap = world.bootstrapOf(config.pipeline.region, world.pipelineAccount);
const prodBootstrapRoles = (Object.keys(BOOTSTRAP_ROLES) as BootstrapKind[]).map((kind) => ({ kind, role: world.role(prodBootstrap, BOOTSTRAP_ROLES[kind]) }));
const prodDeployRole = world.role(prodBootstrap, BOOTSTRAP_ROLES.deploy);

const prod = notesStackFacts(world, prodEnv.name);
const prodStack = world.stack(prod.stackName);
const apiFunctionArn = prodStack.getAtt(prod.apiFunction, 'Arn');
const prodStackArn = `arn:aws:cloudformation:${prodEnv.region}:${PROD}:stack/${prod.stackName}/5f1e2d3c-0000-4000-8000-000000000000`;
/** What a step before the approval must never do to prod, whatever role it holds. */
const PROD_RESOURCES = [
  ...['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'].map((action) => ({ action, resource: prod.tableArn, what: 'a write to the prod notes table' })),
  { action: 'lambda:UpdateFunctionCode', resource: apiFunctionArn, what: "the prod API function's code" },
  { action: 'lambda:UpdateAlias', resource: `${apiFunctionArn}:${LIVE_ALIAS}`, what: "the prod API's live alias" },
  ...['cloudformation:UpdateStack', 'cloudformation:ExecuteChangeSet', 'cloudformation:DeleteStack'].map((action) => ({ action, resource: prodStackArn, what: `${prod.stackName} itself` })),
  { action: 'secretsmanager:GetSecretValue', resource: prod.smokeSecretArn, what: "the prod smoke user's password" },
];

/** The prod plan role (lib/target-account.ts, prod's baseline stack): the one role of prod a Plan step may assume. */
const PLAN_ROLE_ARN = roleArn(PROD, planRoleName(config.service, prodEnv.region));
const planRole = world.roleByArn(PLAN_ROLE_ARN);
const isPlan = (s: StepRole) => s.action.name === 'Plan';

/**
 * Findings: a step before the approval that does reach prod. Each would be asserted as still
 * Allowed (its test fails once it is fixed: then delete the entry). None is open: the two the proof
 * found (RecoverFailedCreate and SelfUpdate before the approval) were fixed by moving both steps
 * after it (decision log, #11).
 */
const KNOWN_HOLES: { step: RegExp; kind: StepRole['kind']; bootstrapRoles: BootstrapKind[]; finding: string }[] = [
];
/** Findings: steps before the approval that reach prod through a chain of roles. */
const KNOWN_REACH: { step: RegExp; kind: StepRole['kind']; finding: string }[] = [
  ...KNOWN_HOLES.map(({ step, kind, finding }) => ({ step, kind, finding })),
];
/** Findings: roles outside prod, not pipeline steps, that may assume the prod deploy role. */
const KNOWN_TRUSTED: { role: Principal; finding: string }[] = [
  {
    role: world.role(pipelineBootstrap, BOOTSTRAP_ROLES.cloudFormationExecution),
    finding:
      "the pipeline account's bootstrap execution role has AdministratorAccess and prod's bootstrap trusts the pipeline account as a whole: whatever deploys NotesPipeline may reach prod, which is why SelfUpdate runs only after the approval",
  },
];
const holeOf = (s: StepRole, kind: BootstrapKind) => KNOWN_HOLES.find((h) => h.step.test(s.step) && h.kind === s.kind && h.bootstrapRoles.includes(kind));
const reachHoleOf = (s: StepRole) => KNOWN_REACH.find((h) => h.step.test(s.step) && h.kind === s.kind);

const allGates: Gate[] = gates(world);
const beforeApproval: StepRole[] = allGates.flatMap((g) => g.before.flatMap((a) => rolesOf(world, a)));
const afterApproval: StepRole[] = allGates.flatMap((g) => g.after.flatMap((a) => rolesOf(world, a)));
const byArn = (list: Principal[]) => [...new Map(list.map((p) => [p.arn, p])).values()];
const names = (list: Principal[]) => list.map((p) => p.definedIn).sort();
const showPath = (p: Path) => `${p.to.definedIn} (${p.hops.join(' -> ')})`;

const reachCache = new Map<string, Promise<Path[]>>();
/** The roles a role can become; a path ends at the plan role (its own reach is the baseline stack's proof) and at the other roles of its step. */
function reachOf(p: Principal): Promise<Path[]> {
  let r = reachCache.get(p.arn);
  if (!r) {
    // A known hole needs one path into prod to be shown still open; every other start is searched to the end.
    const hole = beforeApproval.some((s) => s.principal.arn === p.arn && reachHoleOf(s));
    // A path ends at another role of the same step (an action role starting its own project
    // reaches the project role): that role is a start of its own, proven (or listed) in its own test.
    const steps = beforeApproval.filter((s) => s.principal.arn === p.arn).map((s) => s.step);
    const sameStep = (to: Principal) => beforeApproval.some((s) => s.principal.arn === to.arn && steps.includes(s.step));
    r = reachableFrom(world, p, { stop: (to) => to.arn === PLAN_ROLE_ARN || sameStep(to), until: hole ? (to) => accountOf(to) === PROD : undefined });
    reachCache.set(p.arn, r);
  }
  return r;
}

async function mayAssume(principal: Principal, candidates: Principal[]): Promise<Principal[]> {
  const out: Principal[] = [];
  for (const c of candidates) if (c.arn !== principal.arn && (await world.simulate({ principal, action: 'sts:AssumeRole', resource: c.arn })).decision === 'Allowed') out.push(c);
  return out;
}

describe('three-account layout: what runs before the approval', () => {
  it('the pipelines are cut at their approvals: notes-release and notes-hotfix at ApproveProd, notes-rollback at its approval stage, with each Deploy to prod after it', () => {
    const cut = Object.fromEntries(allGates.map((g) => [g.pipeline, g.approvalStage]));
    expect(cut).toEqual({ 'notes-release': 'ApproveProd', 'notes-hotfix': 'ApproveProd', 'notes-rollback': expect.any(String) });
    for (const g of allGates) expect(g.after.filter((a) => a.name === 'Deploy' && a.provider === 'CodeBuild').length).toBeGreaterThan(0);
    expect(beforeApproval.map((s) => s.step)).toEqual(expect.arrayContaining(['notes-release Build/Build', 'notes-release Dev/Deploy', 'notes-release PlanProd/Plan', 'notes-rollback Plan/Plan']));
  });

  it('every role before the approval is modelled with all its policies (an AWS managed policy left out could hide an Allowed)', () => {
    const incomplete = [...beforeApproval.map((s) => s.principal), ...prodBootstrapRoles.map((b) => b.role)].filter((p) => p.definedIn.includes(', without '));
    expect(incomplete.map((p) => p.definedIn)).toEqual([]);
  });

  for (const s of beforeApproval) {
    const who = `${s.step} ${s.kind} (${s.principal.definedIn})`;
    for (const { kind, role } of prodBootstrapRoles) {
      const title = `${s.step} ${s.kind}: sts:AssumeRole on the prod ${kind} role ${role.name}`;
      const hole = holeOf(s, kind);
      if (hole) {
        it(`KNOWN HOLE (issue #11 finding): ${title} is Allowed: ${hole.finding}`, () => expectAllowed(world, who, s.principal, { action: 'sts:AssumeRole', resource: role.arn }));
      } else {
        it(`${title} is Denied`, () => expectDenied(world, who, s.principal, { action: 'sts:AssumeRole', resource: role.arn }, 'it runs before the approval'));
      }
    }
    for (const r of PROD_RESOURCES) {
      it(`${s.step} ${s.kind}: ${r.action} on ${r.resource} is Denied (${r.what})`, () =>
        expectDenied(world, who, s.principal, { action: r.action, resource: r.resource }, `it runs before the approval and ${r.what} is prod's`));
    }
  }
});

describe('three-account layout: the Plan steps may assume the prod plan role and nothing else in prod', () => {
  const plans = beforeApproval.filter(isPlan);
  it('the Plan steps are found: notes-release, notes-hotfix and notes-rollback each have one', () =>
    expect([...new Set(plans.map((s) => s.action.pipeline))].sort()).toEqual(['notes-hotfix', 'notes-release', 'notes-rollback']));
  for (const s of plans) {
    const title = `${s.step} ${s.kind}: of the roles of account ${PROD}, sts:AssumeRole is Allowed on ${planRoleName(config.service, prodEnv.region)} at most`;
    it(title, async () => {
      const prodRoles = world.allRoles().filter((r) => accountOf(r) === PROD && r.arn !== PLAN_ROLE_ARN);
      const allowed = await mayAssume(s.principal, prodRoles);
      if (allowed.length) throw new Error(`${s.step} ${s.kind} (${s.principal.definedIn}) may assume ${names(allowed).join(', ')} in prod: only ${PLAN_ROLE_ARN} is allowed before the approval`);
    });
  }
  it(`the prod plan role ${PLAN_ROLE_ARN} is defined by prod's baseline stack`, () => expect(planRole?.definedIn).toMatch(/^NotesBaseline-prod\//));
  for (const s of plans.filter((p) => p.kind === 'project role')) {
    const title = `${s.step} project role: sts:AssumeRole on the prod plan role ${planRoleName(config.service, prodEnv.region)} is Allowed (the plan needs it)`;
    it(title, () => expectAllowed(world, `${s.step} project role (${s.principal.definedIn})`, s.principal, { action: 'sts:AssumeRole', resource: PLAN_ROLE_ARN }));
  }
});

describe('three-account layout: no chain of roles leads from before the approval into prod', () => {
  const starts = byArn(beforeApproval.map((s) => s.principal)).map((p) => beforeApproval.find((s) => s.principal.arn === p.arn)!);
  for (const s of starts) {
    const title = `${s.step} ${s.kind}: no role of account ${PROD} is reachable by sts:AssumeRole, iam:PassRole, codebuild:StartBuild or lambda:UpdateFunctionCode${isPlan(s) ? ` (but ${planRoleName(config.service, prodEnv.region)})` : ''}`;
    const hole = reachHoleOf(s);
    if (hole) {
      it(`KNOWN HOLE (issue #11 finding): ${s.step} ${s.kind} reaches the prod account: ${hole.finding}`, async () => {
        const into = (await reachOf(s.principal)).filter((p) => accountOf(p.to) === PROD);
        expect(into.map(showPath)).not.toEqual([]);
      });
    } else {
      it(title, async () => {
        const into = (await reachOf(s.principal)).filter((p) => accountOf(p.to) === PROD && p.to.arn !== PLAN_ROLE_ARN);
        if (into.length) throw new Error(`${s.step} ${s.kind} (${s.principal.definedIn}) runs before the approval and reaches prod: ${into.map(showPath).join('; ')}`);
      });
    }
  }
});

describe("three-account layout: only Prod's actions reach prod", () => {
  // Prod's Deploy, and the step before it that clears a failed first create (both after the approval).
  const prodDeploySteps = afterApproval.filter((s) => ['Deploy', 'RecoverFailedCreate'].includes(s.action.name) && s.kind === 'project role');
  it('the deploy steps after an approval are the Prod stages of notes-release and notes-hotfix (RecoverFailedCreate, Deploy) and the rollback Deploy', () =>
    expect(prodDeploySteps.map((s) => s.step).sort()).toEqual([
      'notes-hotfix Prod/Deploy',
      'notes-hotfix Prod/RecoverFailedCreate',
      'notes-release Prod/Deploy',
      'notes-release Prod/RecoverFailedCreate',
      'notes-rollback Deploy/Deploy',
    ]));

  const knownSteps = beforeApproval.filter((s) => holeOf(s, 'deploy')).map((s) => s.principal);
  const known = byArn([...knownSteps, ...KNOWN_TRUSTED.map((k) => k.role)]);
  it(`of every role outside account ${PROD} (roles of prod are prod already), exactly the deploy steps after an approval may sts:AssumeRole the prod deploy role ${prodDeployRole.name}${known.length ? ` (and the known holes: ${names(known).join(', ')})` : ''}`, async () => {
    const outside = world.allRoles().filter((r) => accountOf(r) !== PROD);
    const allowed: Principal[] = [];
    for (const r of outside) if ((await world.simulate({ principal: r, action: 'sts:AssumeRole', resource: prodDeployRole.arn })).decision === 'Allowed') allowed.push(r);
    const unexpected = allowed.filter((r) => !prodDeploySteps.some((s) => s.principal.arn === r.arn) && !known.some((k) => k.arn === r.arn));
    const missing = prodDeploySteps.filter((s) => !allowed.some((r) => r.arn === s.principal.arn));
    if (unexpected.length) throw new Error(`these roles may assume the prod deploy role ${prodDeployRole.arn} but are no deploy step after an approval: ${names(unexpected).join(', ')}`);
    if (missing.length) throw new Error(`these deploy steps may not assume the prod deploy role ${prodDeployRole.arn}, so prod cannot be deployed: ${missing.map((s) => `${s.step} (${s.principal.definedIn})`).join(', ')}`);
  });
  for (const k of KNOWN_TRUSTED) {
    it(`KNOWN HOLE (issue #11 finding): ${k.role.definedIn}: sts:AssumeRole on the prod deploy role ${prodDeployRole.name} is Allowed: ${k.finding}`, () =>
      expectAllowed(world, k.role.definedIn, k.role, { action: 'sts:AssumeRole', resource: prodDeployRole.arn }));
  }

  for (const g of allGates) {
    it(`${g.pipeline}: the pipeline's own service role may sts:AssumeRole exactly its actions' roles (CodePipeline assumes them to run each action; it is not a step) and no prod bootstrap role`, async () => {
      const service = serviceRoleOf(world, g);
      const own = byArn(g.actions.map((a) => world.roleByArn(a.roleArn)!)).filter((p) => p.arn !== service.arn);
      const allowed = await mayAssume(service, world.allRoles());
      expect(names(allowed)).toEqual(names(own));
    });
  }
  for (const g of allGates) {
    const service = serviceRoleOf(world, g);
    for (const r of PROD_RESOURCES) {
      it(`${g.pipeline} service role: ${r.action} on ${r.resource} is Denied (${r.what})`, () => expectDenied(world, `${g.pipeline} service role`, service, { action: r.action, resource: r.resource }, 'CodePipeline only assumes action roles'));
    }
  }
});

describe('three-account layout: the Build step can assume no role', () => {
  const build = beforeApproval.filter((s) => s.action.stage === 'Build' && s.action.name === 'Build');
  it('the Build steps of notes-release and notes-hotfix are found', () => expect(build.map((s) => s.step)).toEqual(expect.arrayContaining(['notes-release Build/Build', 'notes-hotfix Build/Build'])));
  for (const s of build) {
    it(`${s.step} ${s.kind}: sts:AssumeRole is Denied on every role of every account (it runs the commit's code)`, async () => {
      const own = accountOf(s.principal);
      // A role no template defines, in its own account (no trust policy: its identity policy alone decides) and in prod.
      const strangers = [`arn:aws:iam::${own}:role/any-role`, `arn:aws:iam::${PROD}:role/any-role`].map((arn) => ({ ...s.principal, arn, name: 'any-role', definedIn: 'no template' }));
      const allowed = await mayAssume(s.principal, [...world.allRoles(), ...strangers]);
      if (allowed.length) throw new Error(`${s.step} ${s.kind} (${s.principal.definedIn}) runs the commit's code and may assume ${allowed.map((p) => p.arn).join(', ')}`);
    });
  }
});

describe('three-account layout: pipeline artifacts stay in the pipeline account', () => {
  const facts = pipelineFacts(world);
  const artifact = `arn:aws:s3:::${facts.artifactBucket}/notes-release/Assembly/Xy12AbC`;
  const reads = [
    { action: 's3:GetObject', resource: artifact, what: 'an artifact object' },
    { action: 'kms:Decrypt', resource: facts.pipelineKeyArn, what: "the artifact store's key" },
  ];
  const devDeploy = beforeApproval.find((s) => s.step === 'notes-release Dev/Deploy' && s.kind === 'project role')!;
  for (const r of reads) {
    it(`the check can fail: ${devDeploy.step} project role (pipeline account) may ${r.action} ${r.what}`, () => expectAllowed(world, devDeploy.principal.definedIn, devDeploy.principal, r));
  }
  const targets = world.allRoles().filter((p) => accountOf(p) !== world.pipelineAccount);
  it('the roles of the target accounts include their bootstrap roles and the roles CodePipeline invokes their smoke tests through', () => {
    expect(targets.filter((p) => p.name.endsWith('-smoke-invoke')).map((p) => p.name).sort()).toEqual(['NotesStack-dev-smoke-invoke', 'NotesStack-prod-smoke-invoke']);
    expect(targets.filter((p) => p.definedIn.startsWith('CDKToolkit@')).length).toBe(2 * Object.keys(BOOTSTRAP_ROLES).length);
  });
  for (const p of targets) {
    for (const r of reads) {
      it(`${p.definedIn}: ${r.action} on ${r.resource} is Denied (${r.what}; every step that reads artifacts runs in the pipeline account)`, () =>
        expectDenied(world, p.definedIn, p, r, 'pipeline artifacts are read in the pipeline account only'));
    }
  }
});

describe('three-account layout: the release operator reads prod through the prod reader role', () => {
  const operator = world.holderOf('release-operator', [world.managedPolicyArn(PIPELINE_STACK, 'ReleaseOperatorPolicy')]);
  const prodFunction = prodStack.ref(prod.apiFunction);
  // The CLI's calls to prod, as its own tests recorded them (the first phase of npm test).
  const calls = recorded().calls.filter((c) => c.component === 'cli/release' && (c.input.StackName === prod.stackName || c.input.FunctionName === prodFunction));
  const requests: (IamRequest & { command: string })[] = [];
  for (const c of calls) {
    for (const r of iamRequestsOf(c.command, c.input, { account: PROD, region: prodEnv.region, topicKey: (a) => world.topicKey(a) }) ?? []) {
      if (!requests.some((x) => x.action === r.action && x.resource === r.resource)) requests.push({ ...r, command: c.command });
    }
  }
  const READER_ARN = roleArn(PROD, readerRoleName(config.service, prodEnv.region));
  const reader = world.roleByArn(READER_ARN);

  it(`the CLI's recorded calls to prod are found: DescribeStacks and GetTemplate on ${prod.stackName}, GetAlias on its live alias`, () =>
    expect(requests.map((r) => r.action).sort()).toEqual(['cloudformation:DescribeStacks', 'cloudformation:GetTemplate', 'lambda:GetAlias']));
  for (const r of requests) {
    it(`a release operator (pipeline account) cannot ${r.action} on ${r.resource} directly (${r.command}: no resource policy lets another account in)`, () =>
      expectDenied(world, 'a release operator', operator, r, 'prod is read through the prod reader role'));
  }
  it(`the prod reader role ${READER_ARN} is defined by prod's baseline stack`, () => expect(reader?.definedIn).toMatch(/^NotesBaseline-prod\//));
  if (!reader) return;
  it(`a release operator may sts:AssumeRole the prod reader role ${reader.name}`, () => expectAllowed(world, 'a release operator', operator, { action: 'sts:AssumeRole', resource: READER_ARN }));
  for (const r of requests) {
    it(`the prod reader role: ${r.command} -> ${r.action} on ${r.resource} is Allowed`, () => expectAllowed(world, reader.definedIn, reader, r));
  }
  for (const r of PROD_RESOURCES) {
    it(`the prod reader role: ${r.action} on ${r.resource} is Denied (${r.what}; it reads, never writes)`, () => expectDenied(world, reader.definedIn, reader, r, 'the reader role is read-only'));
  }
});

describe('single-account layout: the isolation it lacks (Allowed here; a fix flips these)', () => {
  const single = new IamWorld();
  const gs = gates(single);
  const steps = gs.flatMap((g) => g.before.flatMap((a) => rolesOf(single, a)));
  const after = gs.flatMap((g) => g.after.flatMap((a) => rolesOf(single, a)));
  const boot = single.bootstrapOf(single.region);
  const deploy = single.role(boot, BOOTSTRAP_ROLES.deploy);
  const devDeploy = steps.find((s) => s.step === 'notes-release Dev/Deploy' && s.kind === 'project role')!;
  const prodDeploy = after.find((s) => s.step === 'notes-release Prod/Deploy' && s.kind === 'project role')!;
  it(`LACKS ISOLATION: the Dev deploy step, before the approval, may assume the bootstrap deploy role ${deploy.name}`, () =>
    expectAllowed(single, devDeploy.principal.definedIn, devDeploy.principal, { action: 'sts:AssumeRole', resource: deploy.arn }));
  it(`LACKS ISOLATION: ...and the Prod deploy step deploys NotesStack-prod with that same role ${deploy.name}`, () =>
    expectAllowed(single, prodDeploy.principal.definedIn, prodDeploy.principal, { action: 'sts:AssumeRole', resource: deploy.arn }));
  it(`LACKS ISOLATION: the bootstrap CloudFormation execution role ${single.role(boot, BOOTSTRAP_ROLES.cloudFormationExecution).name} has AdministratorAccess (plain cdk bootstrap)`, () =>
    expect(single.role(boot, BOOTSTRAP_ROLES.cloudFormationExecution).policies.map((p) => p.name)).toContain('arn:aws:iam::aws:policy/AdministratorAccess'));
  it('LACKS ISOLATION: through the deploy role, the Dev deploy step reaches every role of the account, prod\'s included', async () => {
    const reach = await reachableFrom(single, devDeploy.principal, { until: (p) => p.definedIn.startsWith('NotesStack-prod/') });
    const prodRoles = reach.filter((p) => p.to.definedIn.startsWith('NotesStack-prod/'));
    expect(prodRoles.length).toBeGreaterThan(0);
  });
});
