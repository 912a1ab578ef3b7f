/**
 * IAM contract of every Lambda handler (lambda/*): each AWS call its tests made it send is
 * simulated as the function's execution role in the synthesized templates, and must be Allowed;
 * each call it must never be able to make must be Denied.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { arns, ComponentRow, contractSuite, IamWorld, lambdaEnv, PrincipalUse } from './support/harness';
import { id, notesStackFacts, PIPELINE_STACK, pipelineActions, pipelineFacts, pipelineRole, releasePipelines } from './support/deployed';

const world = new IamWorld();
const pipeline = pipelineFacts(world);
const envs = world.built.config.environments.map((e) => notesStackFacts(world, e.name));
const prod = notesStackFacts(world, world.built.config.environments.find((e) => e.kind === 'production')!.name);
const rollback = world.built.pipelineStack.rollbackPipeline;

function fnUse(stackName: string, functionLogicalId: string, label: string, extra: Partial<PrincipalUse> = {}): PrincipalUse {
  return { label, principal: world.functionRole(stackName, functionLogicalId), env: lambdaEnv(world, stackName, functionLogicalId), ...extra };
}

const ledgerWrites = ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'].map((action) => ({ action, resource: pipeline.ledgerArn, why: 'ledger entries are written once and never changed' }));
const archiveWrite = { action: 's3:PutObject', resource: arns.object(pipeline.archiveBucket, 'releases/v9.9.9/cloud-assembly.zip'), why: 'only the release recorder writes releases/' };

const rows: ComponentRow[] = [
  {
    component: 'lambda/notes-api',
    principals: () => envs.map((e) => fnUse(e.stackName, e.apiFunction, `${e.stackName} API handler`, { names: { TableName: e.tableName } })),
    forbidden: (_w, use) => [
      ...envs
        .filter((e) => !use.label.startsWith(e.stackName))
        .map((e) => ({ action: 'dynamodb:GetItem', resource: e.tableArn, why: `another environment's table (${e.stackName})` })),
      { action: 'dynamodb:GetItem', resource: pipeline.ledgerArn, why: 'the notes API touches its own table only' },
      { action: 'secretsmanager:GetSecretValue', resource: prod.smokeSecretArn, why: 'the notes API touches its own table only' },
      { action: 's3:GetObject', resource: arns.object(pipeline.archiveBucket, 'releases/v1.0.0/cloud-assembly.zip'), why: 'the notes API touches its own table only' },
      { action: 'dynamodb:DeleteTable', resource: prod.tableArn, why: 'item access only, never the table itself' },
    ],
  },
  {
    component: 'lambda/smoke-test',
    principals: () =>
      envs.map((e) => fnUse(e.stackName, e.smokeFunction, `${e.stackName} smoke test`, { names: { SecretId: e.smokeSecretArn, UserPoolId: e.userPoolId } })),
    forbidden: () =>
      envs.flatMap((e) => [
        { action: 'dynamodb:GetItem', resource: e.tableArn, why: 'the smoke test goes through the API, never to the notes table' },
        { action: 'dynamodb:Query', resource: e.tableArn, why: 'the smoke test goes through the API, never to the notes table' },
        { action: 'cognito-idp:AdminCreateUser', resource: `arn:aws:cognito-idp:${world.region}:123456789012:userpool/${e.userPoolId}`, why: 'it signs in, it never creates users' },
      ]),
  },
  {
    component: 'lambda/smoke-user',
    principals: () =>
      envs.map((e) => fnUse(e.stackName, e.smokeUserFunction, `${e.stackName} smoke-user sync`, { names: { SecretId: e.smokeSecretArn, UserPoolId: e.userPoolId } })),
    forbidden: () => envs.map((e) => ({ action: 'dynamodb:Scan', resource: e.tableArn, why: 'it manages one Cognito user, no notes' })),
  },
  {
    component: 'lambda/backup-check',
    principals: () =>
      releasePipelines(world).map((p) =>
        fnUse(PIPELINE_STACK, id(p.backupCheck.function), `${p.pipelineName} backup check`, { names: { TableName: prod.tableName } }),
      ),
    forbidden: () => [
      { action: 'dynamodb:UpdateContinuousBackups', resource: prod.tableArn, why: 'it reads the backup state, it must never turn PITR off' },
      { action: 'dynamodb:GetItem', resource: prod.tableArn, why: 'no access to notes' },
      { action: 'cloudformation:DeleteStack', resource: `arn:aws:cloudformation:${world.region}:123456789012:stack/${prod.stackName}/x`, why: 'read-only on the prod stack' },
    ],
  },
  {
    component: 'lambda/release-recorder',
    principals: () =>
      releasePipelines(world).map((p) => {
        const record = pipelineActions(world).find((a) => a.pipeline === p.pipelineName && a.name === 'RecordRelease')!;
        const artifactReaders = [
          { label: `${p.pipelineName} pipeline role (artifact credentials)`, principal: pipelineRole(world, record.pipelineLogicalId) },
          { label: `${p.pipelineName} RecordRelease action role (artifact credentials)`, principal: world.role(PIPELINE_STACK, record.roleLogicalId) },
        ];
        return fnUse(PIPELINE_STACK, id(p.recorder.function), `${p.pipelineName} recorder`, {
          // The job event's artifact location names the pipelines' artifact bucket.
          names: { Bucket: pipeline.artifactBucket },
          // The input artifact is read with the job's artifactCredentials, which CodePipeline issues
          // from its role ("The CodePipeline role uses a JSON event to pass temporary credentials",
          // action-reference-Lambda): whichever role that is, it must be able to read it.
          principalsFor: (request) => (request.resource.startsWith(`arn:aws:s3:::${pipeline.artifactBucket}/`) ? artifactReaders : undefined),
        });
      }),
    forbidden: () => [
      ...ledgerWrites.map((f) => ({ ...f, why: 'the recorder appends; it never updates or deletes ledger entries' })),
      { action: 's3:DeleteObject', resource: arns.object(pipeline.archiveBucket, 'releases/v1.0.0/cloud-assembly.zip'), why: 'archived releases are never deleted' },
      { action: 's3:PutObject', resource: arns.object(pipeline.archiveBucket, 'other/x'), why: 'it writes the releases/ prefix only' },
    ],
  },
  {
    component: 'lambda/rollback-resolve',
    principals: () => [fnUse(PIPELINE_STACK, id(rollback.resolveFunction), 'rollback Resolve')],
    forbidden: () => [
      archiveWrite,
      { action: 'dynamodb:PutItem', resource: pipeline.ledgerArn, why: 'Resolve reads the ledger; Record writes it' },
      { action: 's3:GetObject', resource: arns.object(pipeline.archiveBucket, 'releases/v1.0.0/release-notes.md'), why: 'it reads archived assemblies only' },
    ],
  },
  {
    component: 'lambda/rollback-record',
    principals: () => [fnUse(PIPELINE_STACK, id(rollback.recordFunction), 'rollback Record')],
    forbidden: () => [...ledgerWrites, archiveWrite],
  },
  {
    component: 'lambda/failure-recorder',
    principals: () => [fnUse(PIPELINE_STACK, id(world.built.pipelineStack.failureRecorder.function), 'failure recorder', { names: { TableName: pipeline.ledgerTable } })],
    forbidden: () => [
      ...ledgerWrites.map((f) => ({ ...f, why: 'the failure recorder appends; it never updates or deletes ledger entries' })),
      archiveWrite,
      { action: 'codepipeline:StartPipelineExecution', resource: `arn:aws:codepipeline:${world.region}:123456789012:notes-rollback`, why: 'it records; it never starts anything' },
    ],
  },
  {
    // Deployed only when prod is in another account than the pipeline (the three-account layout):
    // this single-account world has no such function; its reads are made as prod's reader role.
    component: 'lambda/alarm-watch',
    principals: () => [],
  },
  {
    component: 'lambda/pre-traffic-hook',
    principals: () =>
      envs.map((e) => {
        const shift = e.stack.trafficShift;
        const r = world.stack(e.stackName);
        // The function's version of this deploy (CDK names it CurrentVersion<hash of the code>).
        const versionArn = r.ref(r.ofType('AWS::Lambda::Version').find((v) => v.startsWith(id(e.stack.api.version)))!);
        return fnUse(e.stackName, id(shift.hook), `${e.stackName} pre-traffic hook`, {
          // The hook invokes exactly the version CodeDeploy is about to shift to (by ARN, unqualified).
          names: { FunctionName: versionArn, Qualifier: '', SecretId: e.smokeSecretArn },
        });
      }),
    forbidden: () =>
      envs.flatMap((e) => [
        { action: 'lambda:InvokeFunction', resource: `${world.stack(e.stackName).getAtt(e.apiFunction, 'Arn')}:live`, why: 'never the live alias: that is real users\' traffic' },
        { action: 'dynamodb:GetItem', resource: e.tableArn, why: 'it goes through the function, never to the notes table' },
      ]),
  },
];

contractSuite(world, rows);

describe('coverage', () => {
  it('every Lambda handler folder (lambda/*) has a row in this contract', () => {
    const folders = readdirSync(join(__dirname, '..', '..', 'lambda')).map((f) => `lambda/${f}`).sort();
    expect(rows.map((r) => r.component).sort()).toEqual(folders);
  });

  it('every Lambda function in the templates runs as a role some row covers (or is CDK’s custom resource framework)', () => {
    const covered = new Set(rows.flatMap((r) => r.principals(world).map((u) => u.principal.arn)));
    const uncovered: string[] = [];
    for (const s of world.stacks) {
      for (const fn of s.ofType('AWS::Lambda::Function')) {
        if (String((s.props(fn) as { Handler?: string }).Handler) === 'framework.onEvent') continue;
        if (!covered.has(world.functionRole(s.stackName, fn).arn)) uncovered.push(`${s.stackName}/${fn}`);
      }
    }
    expect(uncovered).toEqual([]);
  });

  it('no role but the release recorders may write releases/ in the archive bucket', async () => {
    const recorders = new Set(releasePipelines(world).map((p) => world.functionRole(PIPELINE_STACK, id(p.recorder.function)).arn));
    const writers: string[] = [];
    for (const s of world.stacks) {
      for (const r of s.ofType('AWS::IAM::Role')) {
        const principal = world.role(s.stackName, r);
        const outcome = await world.simulate({ principal, action: 's3:PutObject', resource: archiveWrite.resource });
        if (outcome.decision === 'Allowed' && !recorders.has(principal.arn)) writers.push(principal.definedIn);
      }
    }
    expect(writers).toEqual([]);
  });
});
