/**
 * `npm run preflight`: the AWS control plane is mocked (aws-sdk-client-mock) and every call is
 * asserted; what the app requires (qualifier, bootstrap version, targets) comes from a real synth
 * of the repository's cdk.json. Each check is shown passing on a ready account and failing, with
 * its fix, on one that is not.
 */
import { APIGatewayClient, GetAccountCommand } from '@aws-sdk/client-api-gateway';
import { CloudFormationClient, DescribeStacksCommand, Stack } from '@aws-sdk/client-cloudformation';
import { CodeStarConnectionsClient, GetConnectionCommand } from '@aws-sdk/client-codestar-connections';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { DefaultStackSynthesizer } from 'aws-cdk-lib';
import type { AppConfig } from '../../lib/config';
import { Clients } from '../../lib/preflight/checks';
import { PreflightReport, runPreflight } from '../../lib/preflight/main';
import { AppRequirements, appRequirements, CdkJson, Target } from '../../lib/preflight/requirements';
import { captureIo } from '../cli/support';
import { buildTestApp, REPO_ROOT } from '../infra/fixture';

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
/** The execution policy's parts the single-account baseline creates (NotesBaseline-dev-prod: three, each under IAM's size limit). */
const SINGLE_ACCOUNT_POLICIES = ['', '-2', '-3'].map((n) => `arn:aws:iam::111122223333:policy/notes-cfn-execution-eu-west-1${n}`).join(',');
const CONNECTION = 'arn:aws:codeconnections:eu-west-1:111122223333:connection/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';

const sts = mockClient(STSClient);
const cfn = mockClient(CloudFormationClient);
const apigw = mockClient(APIGatewayClient);
const connections = mockClient(CodeStarConnectionsClient);
const secrets = mockClient(SecretsManagerClient);
const mocks = { sts, cloudformation: cfn, apigateway: apigw, connections, secrets };

/** Clients made per region, remembered so that every recorded call can name its region. */
const regionOf = new Map<unknown, string>();
function testClients(): Clients {
  const make = <T>(client: T, region: string): T => {
    regionOf.set(client, region);
    return client;
  };
  return {
    cloudformation: (region) => make(new CloudFormationClient({ region }), region),
    apigateway: (region) => make(new APIGatewayClient({ region }), region),
    connections: (region) => make(new CodeStarConnectionsClient({ region }), region),
    secrets: (region) => make(new SecretsManagerClient({ region }), region),
  };
}

/** sinon numbers every call of every spy in one sequence. */
const callId = (call: unknown) => (call as { callId: number }).callId;

/** Every AWS call in the order it was made: `service:Command region {input}`. */
function calls(): string[] {
  return Object.entries(mocks)
    .flatMap(([service, m]) => m.calls().map((c) => ({ c, service })))
    .sort((a, b) => callId(a.c) - callId(b.c))
    .map(({ c, service }) => {
      const command = c.args[0] as unknown as { constructor: { name: string }; input: unknown };
      const region = regionOf.get(c.thisValue) ?? 'default';
      return `${service}:${command.constructor.name.replace(/Command$/, '')} ${region} ${JSON.stringify(command.input)}`;
    });
}

const awsError = (name: string, message: string) => Object.assign(new Error(message), { name });
const missingStack = (name: string) => awsError('ValidationError', `Stack with id ${name} does not exist`);

function cdkJson(): CdkJson {
  const json = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as CdkJson;
  const notes = json.context!.notes as AppConfig;
  // A deployer's filled-in cdk.json: real addresses and connection.
  notes.pipeline.approverEmails = ['approvers@notes.test'];
  notes.pipeline.opsOwnerEmails = ['ops@notes.test'];
  notes.pipeline.source.connectionArn = CONNECTION;
  for (const e of notes.environments) e.alarmEmails = e.kind === 'production' ? ['ops@notes.test'] : [];
  return json;
}

let ready: AppRequirements;
beforeAll(() => {
  ready = appRequirements(cdkJson());
});

function bootstrapStack(overrides: { version?: string; qualifier?: string; trusted?: string; policies?: string; status?: string } = {}): Stack {
  return {
    StackName: 'CDKToolkit',
    StackStatus: (overrides.status ?? 'UPDATE_COMPLETE') as Stack['StackStatus'],
    CreationTime: new Date('2026-01-01T00:00:00Z'),
    Parameters: [
      { ParameterKey: 'Qualifier', ParameterValue: overrides.qualifier ?? DefaultStackSynthesizer.DEFAULT_QUALIFIER },
      { ParameterKey: 'TrustedAccounts', ParameterValue: overrides.trusted ?? '' },
      { ParameterKey: 'CloudFormationExecutionPolicies', ParameterValue: overrides.policies ?? SINGLE_ACCOUNT_POLICIES },
    ],
    Outputs: [{ OutputKey: 'BootstrapVersion', OutputValue: overrides.version ?? '28' }],
  };
}

/** A ready account: bootstrapped, API Gateway role set, connection AVAILABLE, secret present, no stacks yet. */
function readyAccount(): void {
  for (const m of Object.values(mocks)) m.reset();
  regionOf.clear();
  sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/dana` });
  cfn.on(DescribeStacksCommand).callsFake((input: { StackName: string }) => {
    if (input.StackName === 'CDKToolkit') return { Stacks: [bootstrapStack()] };
    throw missingStack(input.StackName);
  });
  apigw.on(GetAccountCommand).resolves({ cloudwatchRoleArn: `arn:aws:iam::${ACCOUNT}:role/APIGatewayCloudWatchLogs` });
  connections.on(GetConnectionCommand).resolves({ Connection: { ConnectionArn: CONNECTION, ConnectionStatus: 'AVAILABLE' } });
  secrets.on(DescribeSecretCommand).resolves({ Name: 'notes/release/git-token', ARN: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:notes/release/git-token-AbCdEf` });
}
beforeEach(readyAccount);

async function preflight(argv: string[] = [], requirements: AppRequirements = ready) {
  const io = captureIo();
  const code = await runPreflight(argv, io, { clients: testClients(), requirements: () => requirements });
  return { code, io, stdout: io.stdout.join('\n'), stderr: io.stderr.join('\n') };
}

async function report(argv: string[] = [], requirements: AppRequirements = ready): Promise<{ code: number; report: PreflightReport }> {
  const run = await preflight(['--json', ...argv], requirements);
  return { code: run.code, report: JSON.parse(run.stdout) as PreflightReport };
}

const failing = (r: PreflightReport) => r.checks.filter((c) => c.status === 'fail');
const named = (r: PreflightReport, check: string) => r.checks.filter((c) => c.check === check);

describe('what the app requires comes from the synthesized app', () => {
  test('one target for the single-account quick start, with the synthesizer qualifier and the assembly bootstrap version', () => {
    expect(ready.toolkitStackName).toBe('CDKToolkit');
    expect(ready.targets).toEqual([
      {
        account: undefined,
        region: REGION,
        stacks: ['NotesStack-dev', 'NotesStack-prod', 'NotesPipeline'],
        hostsEnvironments: true,
        hostsPipeline: true,
        qualifier: DefaultStackSynthesizer.DEFAULT_QUALIFIER,
        minBootstrapVersion: expect.any(Number),
        // dev is deployed first into this account and region, so its stack declares AWS::ApiGateway::Account.
        apiGatewayAccountOwner: 'NotesStack-dev',
        // One baseline (execution policy, boundary, plan and reader roles) serves both environments here.
        baselineStack: 'NotesBaseline-dev-prod',
        executionPolicyNames: ['notes-cfn-execution-eu-west-1', 'notes-cfn-execution-eu-west-1-2', 'notes-cfn-execution-eu-west-1-3'],
      },
    ]);
    // The template's own guard agrees: its CheckBootstrapVersion rule refuses exactly the versions below it.
    const rule = JSON.stringify(buildTestApp().template('dev').toJSON().Rules.CheckBootstrapVersion);
    const refused = (JSON.parse(rule.match(/"Fn::Contains":\[(\[[^\]]*\])/)![1]) as string[]).map(Number);
    expect(ready.targets[0].minBootstrapVersion).toBe(Math.max(...refused) + 1);
  });

  test('a custom qualifier in cdk.json context is the one preflight expects', () => {
    const json = cdkJson();
    json.context!['@aws-cdk/core:bootstrapQualifier'] = 'notes1234';
    json.toolkitStackName = 'NotesToolkit';
    const req = appRequirements(json);
    expect(req.targets.map((t) => t.qualifier)).toEqual(['notes1234']);
    expect(req.toolkitStackName).toBe('NotesToolkit');
  });
});

describe('a ready account', () => {
  test('every check passes, exit 0, and the calls are reads of exactly these resources', async () => {
    const run = await preflight();

    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Preflight as arn:aws:sts::${ACCOUNT}:assumed-role/deployer/dana (account ${ACCOUNT})`);
    expect(run.stdout).not.toMatch(/FAIL|warn /);
    expect(run.stdout).toMatch(/Ready: \d+ checks passed\. Next: npx cdk deploy NotesPipeline/);
    expect(calls()).toEqual([
      'sts:GetCallerIdentity default {}',
      `cloudformation:DescribeStacks ${REGION} {"StackName":"CDKToolkit"}`,
      `apigateway:GetAccount ${REGION} {}`,
      `connections:GetConnection ${REGION} {"ConnectionArn":"${CONNECTION}"}`,
      `secrets:DescribeSecret ${REGION} {"SecretId":"notes/release/git-token"}`,
      `cloudformation:DescribeStacks ${REGION} {"StackName":"NotesStack-dev"}`,
      `cloudformation:DescribeStacks ${REGION} {"StackName":"NotesStack-prod"}`,
      `cloudformation:DescribeStacks ${REGION} {"StackName":"NotesPipeline"}`,
    ]);
  });

  test('--json reports every check with its target and status', async () => {
    const { code, report: r } = await report();
    expect(code).toBe(0);
    expect(r.ok).toBe(true);
    expect(r.callerAccount).toBe(ACCOUNT);
    expect([...new Set(r.checks.map((c) => c.check))]).toEqual([
      'e-mails',
      'account',
      'bootstrap qualifier',
      'bootstrap version',
      'bootstrap execution policy',
      'API Gateway CloudWatch Logs role',
      'source connection',
      'git token secret',
      'stack NotesStack-dev',
      'stack NotesStack-prod',
      'stack NotesPipeline',
    ]);
    expect(r.checks.filter((c) => c.check !== 'e-mails').every((c) => c.target === `aws://${ACCOUNT}/${REGION}`)).toBe(true);
  });

  test('the git token is only described, never read', async () => {
    await preflight();
    expect(secrets.calls().map((c) => (c.args[0] as object).constructor.name)).toEqual(['DescribeSecretCommand']);
  });
});

describe('each check fails with its fix', () => {
  test('credentials for another account than cdk.json names: the target is not checked further', async () => {
    const req: AppRequirements = { ...ready, targets: ready.targets.map((t) => ({ ...t, account: '444455556666' })) };
    const { code, report: r } = await report([], req);

    expect(code).toBe(1);
    expect(failing(r)).toEqual([
      expect.objectContaining({
        check: 'account',
        target: `aws://444455556666/${REGION}`,
        detail: expect.stringContaining(`to account 444455556666, but the credentials are for account ${ACCOUNT}`),
        fix: [expect.stringContaining('npm run preflight -- --account 444455556666'), expect.any(String)],
      }),
    ]);
    expect(calls()).toEqual(['sts:GetCallerIdentity default {}']);
  });

  test('no bootstrap stack: the bootstrap command for this account and region', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'CDKToolkit' }).rejects(missingStack('CDKToolkit'));
    const { code, report: r } = await report();

    expect(code).toBe(1);
    expect(failing(r)).toEqual([
      expect.objectContaining({ check: 'bootstrap', detail: `the CDK bootstrap stack CDKToolkit does not exist in ${REGION}`, fix: [`npx cdk bootstrap aws://${ACCOUNT}/${REGION}`] }),
    ]);
  });

  test('a bootstrap stack in a failed state', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'CDKToolkit' }).resolves({ Stacks: [bootstrapStack({ status: 'ROLLBACK_COMPLETE' })] });
    const { report: r } = await report();
    expect(failing(r)).toEqual([expect.objectContaining({ check: 'bootstrap', detail: 'the CDK bootstrap stack CDKToolkit is ROLLBACK_COMPLETE' })]);
  });

  test('a bootstrap with another qualifier than the app synthesizes', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'CDKToolkit' }).resolves({ Stacks: [bootstrapStack({ qualifier: 'custom123' })] });
    const { code, report: r } = await report();

    expect(code).toBe(1);
    expect(failing(r)).toEqual([
      expect.objectContaining({
        check: 'bootstrap qualifier',
        detail: expect.stringContaining(`qualifier custom123, but the app synthesizes ${DefaultStackSynthesizer.DEFAULT_QUALIFIER}`),
        fix: [expect.stringContaining('"@aws-cdk/core:bootstrapQualifier": "custom123"'), expect.stringContaining(`npx cdk bootstrap aws://${ACCOUNT}/${REGION}`)],
      }),
    ]);
  });

  test('a bootstrap older than the assembly requires', async () => {
    const required = ready.targets[0].minBootstrapVersion;
    cfn.on(DescribeStacksCommand, { StackName: 'CDKToolkit' }).resolves({ Stacks: [bootstrapStack({ version: String(required - 1) })] });
    const { code, report: r } = await report();

    expect(code).toBe(1);
    expect(failing(r)).toEqual([
      expect.objectContaining({
        check: 'bootstrap version',
        detail: `CDKToolkit is version ${required - 1}, but the assembly requires at least ${required}`,
        fix: [expect.stringMatching(new RegExp(`^npx cdk bootstrap aws://${ACCOUNT}/${REGION} .*upgrades`))],
      }),
    ]);
  });

  test('exactly the required version passes', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'CDKToolkit' }).resolves({ Stacks: [bootstrapStack({ version: String(ready.targets[0].minBootstrapVersion) })] });
    expect(named((await report()).report, 'bootstrap version')[0].status).toBe('ok');
  });

  test('a custom toolkit stack name and qualifier reach the calls and the fix', async () => {
    const req: AppRequirements = { ...ready, toolkitStackName: 'NotesToolkit', targets: ready.targets.map((t) => ({ ...t, qualifier: 'notes1234' })) };
    cfn.on(DescribeStacksCommand, { StackName: 'NotesToolkit' }).rejects(missingStack('NotesToolkit'));
    const { report: r } = await report([], req);

    expect(failing(r)[0].fix).toEqual([`npx cdk bootstrap aws://${ACCOUNT}/${REGION} --qualifier notes1234 --toolkit-stack-name NotesToolkit`]);
    expect(calls()).toContain(`cloudformation:DescribeStacks ${REGION} {"StackName":"NotesToolkit"}`);
  });

  test('the notes stacks deployed with AdministratorAccess: a warning (exit 0) that says what the single account lacks', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'CDKToolkit' }).resolves({ Stacks: [bootstrapStack({ policies: 'arn:aws:iam::aws:policy/AdministratorAccess' })] });
    const run = await preflight();

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/warn {2}bootstrap execution policy: CloudFormation deploys NotesStack-dev, NotesStack-prod with AdministratorAccess/);
    expect(run.stdout).toContain('the dev deploy (before the approval) uses the same bootstrap roles as prod');
    expect(run.stdout).toContain(`the same bootstrap also deploys NotesPipeline, so it cannot use the notes execution policy ${SINGLE_ACCOUNT_POLICIES} alone`);
    expect(run.stdout).toContain('Put dev and prod in accounts of their own (cdk.json "notes:three-accounts"');
    // The layout is read from cdk.json by the pipeline's build, preflight and the CLI: -c would change one cdk command only.
    expect(run.stdout).toContain('with "layout": "three-accounts" in cdk.json\'s context');
    expect(run.stdout).not.toContain('-c layout=');
    expect(run.stdout).toMatch(/Ready: \d+ checks passed, 1 with a warning/);
  });

  test('an empty execution policy parameter is the AdministratorAccess default', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'CDKToolkit' }).resolves({ Stacks: [bootstrapStack({ policies: '' })] });
    expect(named((await report()).report, 'bootstrap execution policy')[0].status).toBe('warn');
  });

  describe('three-account layout: the target accounts\' execution policy', () => {
    const PIPELINE = '111111111111';
    const DEV = '222222222222';
    const NOTES_POLICY = `arn:aws:iam::${DEV}:policy/notes-cfn-execution-eu-west-1,arn:aws:iam::${DEV}:policy/notes-cfn-execution-eu-west-1-2`;
    let threeAccounts: AppRequirements;
    beforeAll(() => {
      const json = cdkJson();
      const layout = json.context!['notes:three-accounts'] as AppConfig;
      layout.pipeline.approverEmails = ['approvers@notes.test'];
      layout.pipeline.opsOwnerEmails = ['ops@notes.test'];
      for (const e of layout.environments) e.alarmEmails = [];
      threeAccounts = appRequirements({ ...json, context: { ...json.context, layout: 'three-accounts' } });
    });
    const asDev = () => sts.on(GetCallerIdentityCommand).resolves({ Account: DEV, Arn: `arn:aws:sts::${DEV}:assumed-role/deployer/dana` });
    const devCheck = (r: PreflightReport, check: string) => r.checks.find((c) => c.target === `aws://${DEV}/${REGION}` && c.check === check)!;

    test('the requirements name each target account\'s baseline stack', () => {
      expect(threeAccounts.targets.map((t) => [t.account, t.stacks, t.baselineStack])).toEqual([
        [DEV, ['NotesStack-dev'], 'NotesBaseline-dev'],
        ['333333333333', ['NotesStack-prod'], 'NotesBaseline-prod'],
        [PIPELINE, ['NotesPipeline'], undefined],
      ]);
    });

    test('AdministratorAccess: a warning whose fix deploys the baseline, then bootstraps with its execution policy', async () => {
      asDev();
      cfn.on(DescribeStacksCommand, { StackName: 'CDKToolkit' }).resolves({ Stacks: [bootstrapStack({ trusted: PIPELINE, policies: 'arn:aws:iam::aws:policy/AdministratorAccess' })] });

      const { code, report: r } = await report(['--account', DEV], threeAccounts);

      expect(code).toBe(0);
      expect(devCheck(r, 'bootstrap execution policy')).toEqual({
        target: `aws://${DEV}/${REGION}`,
        check: 'bootstrap execution policy',
        status: 'warn',
        detail: `CloudFormation deploys NotesStack-dev with AdministratorAccess: a template may create anything in account ${DEV}`,
        fix: [
          `npx cdk deploy NotesBaseline-dev   # first, once, with administrator credentials of account ${DEV}: creates ${NOTES_POLICY}`,
          `npx cdk bootstrap aws://${DEV}/${REGION} --trust ${PIPELINE} --trust-for-lookup ${PIPELINE} --cloudformation-execution-policies ${NOTES_POLICY}   # see docs/02-cicd.md, First deploy`,
        ],
      });
      expect(calls()).toEqual(['sts:GetCallerIdentity default {}', `cloudformation:DescribeStacks ${REGION} {"StackName":"CDKToolkit"}`, `apigateway:GetAccount ${REGION} {}`, `cloudformation:DescribeStacks ${REGION} {"StackName":"NotesStack-dev"}`]);
    });

    test('another policy than the notes execution policy: a warning naming the one the simulator proves', async () => {
      asDev();
      cfn.on(DescribeStacksCommand, { StackName: 'CDKToolkit' }).resolves({ Stacks: [bootstrapStack({ trusted: PIPELINE, policies: `arn:aws:iam::${DEV}:policy/hand-made` })] });

      const check = devCheck((await report(['--account', DEV], threeAccounts)).report, 'bootstrap execution policy');

      expect(check.status).toBe('warn');
      expect(check.detail).toBe(`CloudFormation deploys NotesStack-dev with arn:aws:iam::${DEV}:policy/hand-made, not the notes execution policy ${NOTES_POLICY}: what it allows is not what the simulator proves`);
      expect(check.fix![1]).toContain(`--cloudformation-execution-policies ${NOTES_POLICY}`);
    });

    test('the notes execution policy: ok', async () => {
      asDev();
      cfn.on(DescribeStacksCommand, { StackName: 'CDKToolkit' }).resolves({ Stacks: [bootstrapStack({ trusted: PIPELINE, policies: NOTES_POLICY })] });

      const { code, report: r } = await report(['--account', DEV], threeAccounts);

      expect(devCheck(r, 'bootstrap execution policy')).toEqual(expect.objectContaining({ status: 'ok', detail: `CloudFormation deploys NotesStack-dev with ${NOTES_POLICY.split(',').join(', ')}` }));
      expect(failing(r)).toEqual([]);
      expect(code).toBe(0);
    });

    test('no bootstrap yet: the fix deploys the baseline first, then bootstraps with trust and the notes execution policy', async () => {
      asDev();
      cfn.on(DescribeStacksCommand, { StackName: 'CDKToolkit' }).rejects(missingStack('CDKToolkit'));

      const check = devCheck((await report(['--account', DEV], threeAccounts)).report, 'bootstrap');

      expect(check.status).toBe('fail');
      expect(check.fix).toEqual([
        `npx cdk deploy NotesBaseline-dev   # first, once, with administrator credentials of account ${DEV}: creates ${NOTES_POLICY}`,
        `npx cdk bootstrap aws://${DEV}/${REGION} --trust ${PIPELINE} --trust-for-lookup ${PIPELINE} --cloudformation-execution-policies ${NOTES_POLICY}`,
      ]);
    });

    test('a target that does not trust the pipeline account: the fix keeps trust and names the notes execution policy when none is set', async () => {
      asDev();
      cfn.on(DescribeStacksCommand, { StackName: 'CDKToolkit' }).resolves({ Stacks: [bootstrapStack({ trusted: '', policies: '' })] });

      const check = devCheck((await report(['--account', DEV], threeAccounts)).report, 'bootstrap trust');

      expect(check.fix).toEqual([`npx cdk bootstrap aws://${DEV}/${REGION} --trust ${PIPELINE} --trust-for-lookup ${PIPELINE} --cloudformation-execution-policies ${NOTES_POLICY}`]);
    });
  });

  test('multi-account: a target bootstrap that does not trust the pipeline account', async () => {
    const PIPELINE = ACCOUNT;
    const DEV = '777788889999';
    const config: AppConfig = {
      ...ready.config,
      pipeline: { ...ready.config.pipeline, account: PIPELINE },
      environments: ready.config.environments.map((e) => ({ ...e, account: e.name === 'dev' ? DEV : PIPELINE })),
    };
    const [single] = ready.targets;
    const req: AppRequirements = {
      ...ready,
      config,
      targets: [
        { ...single, account: DEV, stacks: ['NotesStack-dev'], hostsPipeline: false },
        { ...single, account: PIPELINE, stacks: ['NotesStack-prod', 'NotesPipeline'] },
      ],
    };
    sts.on(GetCallerIdentityCommand).resolves({ Account: DEV, Arn: `arn:aws:sts::${DEV}:assumed-role/deployer/dana` });
    cfn.on(DescribeStacksCommand, { StackName: 'CDKToolkit' }).resolves({ Stacks: [bootstrapStack({ trusted: '123456789012' })] });

    const { code, report: r } = await report(['--account', DEV], req);

    expect(code).toBe(1);
    expect(failing(r)).toEqual([
      expect.objectContaining({
        target: `aws://${DEV}/${REGION}`,
        check: 'bootstrap trust',
        detail: expect.stringContaining(`does not trust the pipeline account ${PIPELINE} (trusts: 123456789012)`),
        fix: [
          `npx cdk bootstrap aws://${DEV}/${REGION} --trust 123456789012,${PIPELINE} --trust-for-lookup ${PIPELINE} --cloudformation-execution-policies ${SINGLE_ACCOUNT_POLICIES}`,
        ],
      }),
    ]);
    // --account: the pipeline account's target is left for a run with its own credentials.
    expect(r.checks.some((c) => c.target.includes(PIPELINE))).toBe(false);
  });

  test('multi-account: a trusting bootstrap passes', async () => {
    const DEV = '777788889999';
    const req: AppRequirements = {
      ...ready,
      config: { ...ready.config, pipeline: { ...ready.config.pipeline, account: ACCOUNT }, environments: ready.config.environments.map((e) => ({ ...e, account: DEV })) },
      targets: [{ ...ready.targets[0], account: DEV, stacks: ['NotesStack-dev'], hostsPipeline: false }],
    };
    sts.on(GetCallerIdentityCommand).resolves({ Account: DEV, Arn: 'x' });
    cfn.on(DescribeStacksCommand, { StackName: 'CDKToolkit' }).resolves({ Stacks: [bootstrapStack({ trusted: ACCOUNT })] });
    const { code, report: r } = await report([], req);
    expect(code).toBe(0);
    expect(named(r, 'bootstrap trust')).toEqual([expect.objectContaining({ status: 'ok' })]);
  });

  test('no API Gateway CloudWatch Logs role yet: fine, the first NotesStack there sets it', async () => {
    apigw.on(GetAccountCommand).resolves({});
    const { code, report: r } = await report();

    expect(code).toBe(0);
    expect(named(r, 'API Gateway CloudWatch Logs role')).toEqual([
      expect.objectContaining({ status: 'ok', detail: `not set in ${REGION} yet: NotesStack-dev declares the setting (AWS::ApiGateway::Account, its own role) from its first deploy` }),
    ]);
  });

  test('no API Gateway CloudWatch Logs role and no stack there that sets it: the three commands that set it', async () => {
    apigw.on(GetAccountCommand).resolves({});
    const req: AppRequirements = { ...ready, targets: ready.targets.map((t) => ({ ...t, apiGatewayAccountOwner: undefined })) };
    const { code, report: r } = await report([], req);

    expect(code).toBe(1);
    expect(failing(r)).toEqual([
      expect.objectContaining({
        check: 'API Gateway CloudWatch Logs role',
        detail: expect.stringContaining('CloudWatch Logs role ARN must be set in account settings to enable logging'),
        fix: [
          expect.stringMatching(/^aws iam create-role --role-name APIGatewayCloudWatchLogs --assume-role-policy-document '.*apigateway\.amazonaws\.com.*'$/),
          'aws iam attach-role-policy --role-name APIGatewayCloudWatchLogs --policy-arn arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs',
          `aws apigateway update-account --region ${REGION} --patch-operations op=replace,path=/cloudwatchRoleArn,value=arn:aws:iam::${ACCOUNT}:role/APIGatewayCloudWatchLogs`,
        ],
      }),
    ]);
  });

  test('a PENDING connection: finish the handshake in the console', async () => {
    connections.on(GetConnectionCommand).resolves({ Connection: { ConnectionArn: CONNECTION, ConnectionStatus: 'PENDING' } });
    const { code, report: r } = await report();

    expect(code).toBe(1);
    expect(failing(r)).toEqual([
      expect.objectContaining({
        check: 'source connection',
        detail: expect.stringContaining('is PENDING, not AVAILABLE'),
        fix: [expect.stringContaining(`https://${REGION}.console.aws.amazon.com/codesuite/settings/connections?region=${REGION}`)],
      }),
    ]);
  });

  test('a connection that does not exist: create it and put its ARN in cdk.json', async () => {
    connections.on(GetConnectionCommand).rejects(awsError('ResourceNotFoundException', 'Connection not found'));
    const { report: r } = await report();
    expect(failing(r)).toEqual([
      expect.objectContaining({
        check: 'source connection',
        detail: expect.stringContaining('does not exist'),
        fix: [`aws codeconnections create-connection --provider-type GitHub --connection-name notes-github --region ${REGION}`, expect.stringContaining('cdk.json'), expect.any(String)],
      }),
    ]);
  });

  test('the connection is asked for in the region of its ARN', async () => {
    const arn = 'arn:aws:codestar-connections:us-east-1:111122223333:connection/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
    const req: AppRequirements = { ...ready, config: { ...ready.config, pipeline: { ...ready.config.pipeline, source: { ...ready.config.pipeline.source, connectionArn: arn } } } };
    await preflight([], req);
    expect(calls()).toContain(`connections:GetConnection us-east-1 {"ConnectionArn":"${arn}"}`);
  });

  test('no git token secret: the create-secret command', async () => {
    secrets.on(DescribeSecretCommand).rejects(awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret."));
    const { code, report: r } = await report();

    expect(code).toBe(1);
    expect(failing(r)).toEqual([
      expect.objectContaining({
        check: 'git token secret',
        fix: [expect.stringMatching(new RegExp(`^aws secretsmanager create-secret --name notes/release/git-token --region ${REGION} --secret-string '<token>'`))],
      }),
    ]);
  });

  test('a git token secret scheduled for deletion: restore it', async () => {
    secrets.on(DescribeSecretCommand).resolves({ Name: 'notes/release/git-token', DeletedDate: new Date('2026-11-30T12:00:00Z') });
    const { report: r } = await report();
    expect(failing(r)).toEqual([expect.objectContaining({ check: 'git token secret', fix: [`aws secretsmanager restore-secret --secret-id notes/release/git-token --region ${REGION}`] })]);
  });

  test('placeholder and missing e-mail addresses (cdk.json as shipped)', async () => {
    const req: AppRequirements = {
      ...ready,
      config: {
        ...ready.config,
        pipeline: { ...ready.config.pipeline, approverEmails: ['release-approvers@example.com'], opsOwnerEmails: [] },
        environments: ready.config.environments.map((e) => ({ ...e, alarmEmails: e.kind === 'production' ? ['ops@example.com'] : [] })),
      },
    };
    const { code, report: r } = await report([], req);

    expect(code).toBe(1);
    expect(failing(r).map((c) => c.detail)).toEqual([
      'notes.pipeline.approverEmails holds placeholder addresses: release-approvers@example.com',
      'notes.pipeline.opsOwnerEmails is empty: nobody would be asked to approve',
      'notes.environments[1].alarmEmails (prod) holds placeholder addresses: ops@example.com',
    ]);
  });

  test('a stack stuck in ROLLBACK_COMPLETE with termination protection: the commands that clear it', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'NotesStack-prod' }).resolves({
      Stacks: [{ StackName: 'NotesStack-prod', StackStatus: 'ROLLBACK_COMPLETE', EnableTerminationProtection: true, CreationTime: new Date() }],
    });
    const { code, report: r } = await report();

    const r2 = ` --stack-name NotesStack-prod --region ${REGION}`;
    expect(code).toBe(1);
    expect(failing(r)).toEqual([
      expect.objectContaining({
        check: 'stack NotesStack-prod',
        detail: expect.stringContaining('NotesStack-prod is ROLLBACK_COMPLETE'),
        fix: [
          expect.stringContaining(`aws cloudformation describe-stack-events${r2}`),
          `aws cloudformation update-termination-protection --no-enable-termination-protection${r2}`,
          `aws cloudformation delete-stack${r2}`,
          `aws cloudformation wait stack-delete-complete${r2}`,
          expect.stringContaining('Retained resources'),
        ],
      }),
    ]);
  });

  test('UPDATE_ROLLBACK_FAILED: continue the rollback', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'NotesStack-dev' }).resolves({ Stacks: [{ StackName: 'NotesStack-dev', StackStatus: 'UPDATE_ROLLBACK_FAILED', CreationTime: new Date() }] });
    const { report: r } = await report();
    expect(failing(r)).toEqual([expect.objectContaining({ check: 'stack NotesStack-dev', fix: [expect.any(String), `aws cloudformation continue-update-rollback --stack-name NotesStack-dev --region ${REGION}`] })]);
  });

  test('a deployed, healthy stack is ok', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'NotesStack-dev' }).resolves({ Stacks: [{ StackName: 'NotesStack-dev', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date() }] });
    const { report: r } = await report();
    expect(named(r, 'stack NotesStack-dev')).toEqual([expect.objectContaining({ status: 'ok', detail: 'UPDATE_COMPLETE' })]);
  });
});

describe('credentials, permissions and usage', () => {
  test('no credentials: exit 5 with the sign-in hint, and nothing else is called', async () => {
    sts.on(GetCallerIdentityCommand).rejects(awsError('CredentialsProviderError', 'Could not load credentials from any providers'));
    const run = await preflight();

    expect(run.code).toBe(5);
    expect(run.stderr).toContain('error: AWS credentials: Could not load credentials from any providers');
    expect(run.stderr).toContain('aws sso login');
    expect(calls()).toEqual(['sts:GetCallerIdentity default {}']);
  });

  test('--json puts the credentials error on stdout as JSON', async () => {
    sts.on(GetCallerIdentityCommand).rejects(awsError('ExpiredToken', 'The security token included in the request is expired'));
    const run = await preflight(['--json']);
    expect(run.code).toBe(5);
    expect(JSON.parse(run.stdout)).toEqual({ error: expect.objectContaining({ code: 'AUTH', exitCode: 5 }) });
  });

  test('a check the credentials may not make: that check fails as refused, the others still run, exit 5', async () => {
    apigw.on(GetAccountCommand).rejects(awsError('AccessDeniedException', 'User is not authorized to perform: apigateway:GET'));
    const { code, report: r } = await report();

    expect(code).toBe(5);
    expect(failing(r)).toEqual([expect.objectContaining({ check: 'API Gateway CloudWatch Logs role', accessDenied: true, detail: expect.stringContaining('was refused') })]);
    expect(named(r, 'git token secret')[0].status).toBe('ok');
  });

  test('--help works offline: no AWS call, exit 0', async () => {
    const run = await preflight(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: npm run preflight');
    expect(run.stdout).toContain('Exit codes: 0');
    expect(calls()).toEqual([]);
  });

  test.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['--region', 'mars'], /--region "mars" is not an AWS region/],
    [['--account', '12'], /--account "12" is not a 12-digit/],
    [['--region', 'us-west-2'], /cdk.json names no target in region us-west-2/],
  ])('usage error %j: exit 2, one line, no AWS call', async (argv, message) => {
    const run = await preflight(argv);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(calls()).toEqual([]);
  });

  test('an invalid cdk.json: exit 2 naming the key, before any AWS call', async () => {
    const json = cdkJson();
    (json.context!.notes as AppConfig).pipeline.region = 'nowhere';
    const path = join(tmpdir(), `preflight-cdk-${process.pid}.json`);
    writeFileSync(path, JSON.stringify(json));
    const io = captureIo();
    const code = await runPreflight([], io, { clients: testClients(), cdkJsonPath: path });
    expect(code).toBe(2);
    expect(io.stderr.join('\n')).toContain('notes.pipeline.region: must be an AWS region');
    expect(calls()).toEqual([]);
  });

  test('--region keeps only the targets in that region', async () => {
    const config: AppConfig = { ...ready.config, environments: ready.config.environments.map((e) => (e.name === 'dev' ? { ...e, region: 'us-east-1' } : e)) };
    const req: AppRequirements = {
      ...ready,
      config,
      targets: [{ ...ready.targets[0], region: 'us-east-1', stacks: ['NotesStack-dev'], hostsPipeline: false } as Target, { ...ready.targets[0], stacks: ['NotesStack-prod', 'NotesPipeline'] }],
    };
    await preflight(['--region', 'us-east-1'], req);
    expect(calls().filter((c) => c.includes(REGION))).toEqual([]);
    expect(calls()).toContain('cloudformation:DescribeStacks us-east-1 {"StackName":"NotesStack-dev"}');
  });
});
