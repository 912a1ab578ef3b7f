/**
 * IAM contract of the pipelines' own roles, derived from the synthesized pipeline definitions: the
 * pipeline role assumes each action's role; each action role makes the calls CodePipeline makes
 * for that action type (CodePipeline User Guide, "CodePipeline service role" and each action's
 * reference page); every artifact is written and read by whoever CodePipeline makes write and read
 * it, with the key that encrypts it; the prod stage's alarm rule reads its alarm; the EventBridge
 * rules reach their targets.
 */
import { expectAllowed, IamWorld, Principal } from './support/harness';
import { IamRequest } from './support/actions';
import { PIPELINE_STACK, PipelineAction, pipelineActions, pipelineRole } from './support/deployed';

const world = new IamWorld();
const stack = world.stack(PIPELINE_STACK);
const actions = pipelineActions(world);

interface Case {
  title: string;
  principal: Principal;
  request: IamRequest;
}

const key = (k: string | undefined): string | undefined => (k === undefined ? undefined : k.startsWith('arn:') ? k : `arn:aws:kms:${stack.env.region}:${stack.env.account}:key/${k}`);

/** The project's logical id of a CodeBuild action. */
function projectOf(a: PipelineAction): string {
  const id = stack.ofType('AWS::CodeBuild::Project').find((p) => stack.ref(p) === a.configuration.ProjectName);
  if (!id) throw new Error(`${a.pipeline}/${a.stage}/${a.name}: project ${String(a.configuration.ProjectName)} is not in ${PIPELINE_STACK}`);
  return id;
}

function projectRole(projectId: string): Principal {
  const role = (stack.resources[projectId].Properties as { ServiceRole: { 'Fn::GetAtt': [string, string] } }).ServiceRole['Fn::GetAtt'][0];
  return world.role(PIPELINE_STACK, role);
}

function artifactStore(pipelineLogicalId: string): { bucket: string; key?: string } {
  const p = stack.props(pipelineLogicalId) as { ArtifactStore: { Location: string; EncryptionKey?: { Id: string } } };
  const bucketId = stack.ofType('AWS::S3::Bucket').find((b) => stack.ref(b) === p.ArtifactStore.Location);
  const sse = bucketId
    ? ((stack.props(bucketId).BucketEncryption as { ServerSideEncryptionConfiguration?: { ServerSideEncryptionByDefault?: { KMSMasterKeyID?: string } }[] } | undefined)
        ?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault?.KMSMasterKeyID)
    : undefined;
  return { bucket: p.ArtifactStore.Location, key: key(p.ArtifactStore.EncryptionKey?.Id ?? sse) };
}

/** Object key CodePipeline gives an artifact: `<pipeline name, 20 chars>/<artifact name, 10 chars>/<random>`. */
const objectOf = (bucket: string, pipeline: string, artifact: string) => `arn:aws:s3:::${bucket}/${pipeline.slice(0, 20)}/${artifact.slice(0, 10)}/Xy12AbC`;

function cases(): Case[] {
  const out: Case[] = [];
  const add = (title: string, principal: Principal, request: IamRequest) => out.push({ title, principal, request });
  for (const a of actions) {
    const where = `${a.pipeline} ${a.stage}/${a.name}`;
    const pipelineR = pipelineRole(world, a.pipelineLogicalId);
    const actionRole = world.role(PIPELINE_STACK, a.roleLogicalId);
    const store = artifactStore(a.pipelineLogicalId);
    if (actionRole.arn !== pipelineR.arn) add(`${where}: the pipeline role may assume the action role`, pipelineR, { action: 'sts:AssumeRole', resource: actionRole.arn });
    const c = a.configuration;
    switch (a.provider) {
      case 'CodeStarSourceConnection': {
        const connection = String(c.ConnectionArn);
        const prefix = connection.split(':')[2];
        add(`${where}: the source action role may use the connection (${prefix}:UseConnection, the ARN's own prefix)`, actionRole, { action: `${prefix}:UseConnection`, resource: connection });
        break;
      }
      case 'CodeBuild': {
        const project = stack.getAtt(projectOf(a), 'Arn');
        for (const action of ['codebuild:StartBuild', 'codebuild:BatchGetBuilds']) add(`${where}: the action role may ${action} its project`, actionRole, { action, resource: project });
        break;
      }
      case 'Lambda': {
        const fn = String(c.FunctionName);
        const arn = fn.startsWith('arn:') ? fn : `arn:aws:lambda:${stack.env.region}:${stack.env.account}:function:${fn}`;
        add(`${where}: the action role may lambda:InvokeFunction ${fn}`, actionRole, { action: 'lambda:InvokeFunction', resource: arn });
        add(`${where}: the action role may lambda:ListFunctions (the Lambda invoke action lists functions)`, actionRole, { action: 'lambda:ListFunctions', resource: '*' });
        break;
      }
      case 'Manual': {
        if (!c.NotificationArn) break;
        const topic = String(c.NotificationArn);
        add(`${where}: the action role may sns:Publish the approval request`, actionRole, { action: 'sns:Publish', resource: topic });
        const topicKey = world.topicKey(topic);
        if (topicKey) for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) add(`${where}: the action role may ${action} with the approval topic's key`, actionRole, { action, resource: topicKey });
        break;
      }
      case 'S3': {
        const object = `arn:aws:s3:::${String(c.S3Bucket)}/${String(c.S3ObjectKey)}`;
        add(`${where}: the source action role may s3:GetObject the source object`, actionRole, { action: 's3:GetObject', resource: object });
        add(`${where}: the source action role may s3:GetBucketVersioning the source bucket`, actionRole, { action: 's3:GetBucketVersioning', resource: `arn:aws:s3:::${String(c.S3Bucket)}` });
        break;
      }
    }
    // Output artifacts: source actions write them as their action role, CodeBuild as the project's
    // role with the project's key (CodeBuild encrypts its outputs with its encryptionKey).
    for (const artifact of a.outputs) {
      const writer = a.provider === 'CodeBuild' ? projectRole(projectOf(a)) : actionRole;
      const object = objectOf(store.bucket, a.pipeline, artifact);
      add(`${where}: writes artifact ${artifact} (s3:PutObject)`, writer, { action: 's3:PutObject', resource: object });
      const k = a.provider === 'CodeBuild' ? key(String(stack.props(projectOf(a)).EncryptionKey)) : store.key;
      if (k) add(`${where}: encrypts artifact ${artifact} (kms:GenerateDataKey)`, writer, { action: 'kms:GenerateDataKey', resource: k });
    }
    // Input artifacts: CodeBuild downloads them as the project's role; a Lambda action gets
    // artifactCredentials from CodePipeline, so both the pipeline role and the action role must read.
    for (const artifact of a.inputs) {
      const producer = actions.find((p) => p.pipeline === a.pipeline && p.outputs.includes(artifact))!;
      const k = producer.provider === 'CodeBuild' ? key(String(stack.props(projectOf(producer)).EncryptionKey)) : store.key;
      const readers: [string, Principal][] =
        a.provider === 'CodeBuild'
          ? [['its project role', projectRole(projectOf(a))]]
          : [
              ['the pipeline role', pipelineR],
              ['the action role', actionRole],
            ];
      for (const [label, reader] of readers) {
        add(`${where}: ${label} reads artifact ${artifact} (s3:GetObject)`, reader, { action: 's3:GetObject', resource: objectOf(store.bucket, a.pipeline, artifact) });
        if (k) add(`${where}: ${label} decrypts artifact ${artifact} (kms:Decrypt, written by ${producer.stage}/${producer.name})`, reader, { action: 'kms:Decrypt', resource: k });
      }
    }
  }
  // Stage conditions: a CloudWatchAlarm rule runs as the pipeline role and reads its alarm.
  for (const pid of stack.ofType('AWS::CodePipeline::Pipeline')) {
    const p = stack.props(pid) as { Name: string; Stages: { Name: string; OnSuccess?: { Conditions: { Rules: { Name: string; Region?: string; RuleTypeId: { Provider: string }; Configuration: { AlarmName: string } }[] }[] } }[] };
    for (const stage of p.Stages) {
      for (const cond of stage.OnSuccess?.Conditions ?? []) {
        for (const rule of cond.Rules.filter((r) => r.RuleTypeId.Provider === 'CloudWatchAlarm')) {
          const alarm = `arn:aws:cloudwatch:${rule.Region ?? stack.env.region}:${stack.env.account}:alarm:${rule.Configuration.AlarmName}`;
          add(`${p.Name} ${stage.Name} rule ${rule.Name}: the pipeline role may cloudwatch:DescribeAlarms ${rule.Configuration.AlarmName}`, pipelineRole(world, pid), { action: 'cloudwatch:DescribeAlarms', resource: alarm });
        }
      }
    }
  }
  // EventBridge rules that publish through a role of their own.
  for (const rid of stack.ofType('AWS::Events::Rule')) {
    const targets = (stack.props(rid).Targets as { Arn: string; RoleArn?: string }[]) ?? [];
    for (const t of targets) {
      if (!t.RoleArn || !t.Arn.startsWith('arn:aws:sns:')) continue;
      const roleId = stack.ofType('AWS::IAM::Role').find((r) => stack.getAtt(r, 'Arn') === t.RoleArn)!;
      const role = world.role(PIPELINE_STACK, roleId);
      add(`EventBridge rule ${rid}: its role may sns:Publish to its topic`, role, { action: 'sns:Publish', resource: t.Arn });
      const topicKey = world.topicKey(t.Arn);
      if (topicKey) for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) add(`EventBridge rule ${rid}: its role may ${action} with the topic's key`, role, { action, resource: topicKey });
    }
  }
  return out;
}

describe('pipeline roles', () => {
  for (const c of cases()) {
    it(`${c.title}: ${c.request.action} on ${c.request.resource} is Allowed`, () => expectAllowed(world, c.title, c.principal, c.request));
  }

  it('the prod alarm rule watches an alarm NotesStack-prod defines', () => {
    const names = world.stacks.flatMap((s) => [...s.ofType('AWS::CloudWatch::CompositeAlarm'), ...s.ofType('AWS::CloudWatch::Alarm')].map((a) => s.ref(a)));
    const watched = actions.length ? JSON.stringify(stack.props(stack.ofType('AWS::CodePipeline::Pipeline')[0])).match(/"AlarmName":"([^"]+)"/g) ?? [] : [];
    expect(watched.length).toBeGreaterThan(0);
    for (const w of watched) expect(names).toContain(w.split(':')[1].replace(/"/g, ''));
  });
});
