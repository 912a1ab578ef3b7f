/**
 * The rollback pipeline (`notes-rollback`): puts the archived cloud assembly of an earlier release
 * back into prod, without building or testing anything, and records that it did.
 *
 *   Source   the deploy kit (pinned CDK CLI + step scripts), an S3 object published with this
 *            stack, the one the release and hotfix pipelines' deploy steps run; no trigger: only an operator starts this pipeline (`npm run release -- rollback`)
 *   Resolve  Lambda: target from the release ledger, archive present and sha256 intact, variables
 *   Plan     CodeBuild: the change set that puts the archived assembly back, prepared (not executed)
 *            and rendered like a release's plan, with the stateful-change guard
 *   Approve  the ops owner's manual approval of that plan (left out when `pipeline.rollbackApproval` is false)
 *   Deploy   CodeBuild: executes that change set by name through the bootstrap deploy role
 *   Verify   the prod smoke-test Lambda, expecting the target version on /health
 *   Record   Lambda: ROLLBACK entry in the ledger + notification (also run by an EventBridge rule
 *            when an execution fails or is stopped, so failed rollbacks are recorded too)
 *
 * Pipeline variables: TARGET_VERSION (default `previous`), REASON, REQUESTED_BY.
 */
import { Arn, ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { AppConfig, notesStackName, productionEnvironment } from '../config';
import { ServiceFunction } from '../constructs/service-function';
import { assumeBootstrapRolesStatement, assumePlanRoleStatement, DeployTarget, deployRoleArn, planRoleArn } from './bootstrap';
import { allowJobReporting } from './job-permissions';
import { acknowledgeWildcardAction, acknowledgeWildcardResource } from './nag';
import {
  NO_REASON,
  PREVIOUS_RELEASE,
  RESOLVE_NAMESPACE,
  ROLLBACK_PIPELINE_NAME,
  ROLLBACK_STAGES,
  ROLLBACK_VARIABLES,
  UNKNOWN_REQUESTER,
} from '../release/rollback-execution';
import { DeployKit } from './deploy-kit';
import { smokeInvokeRole, smokeTestFunction } from './smoke-action';
import { BUILD_IMAGE, BUILD_NODE_VERSION, KIT_INSTALL, PLAN_VARIABLES } from './steps';

export { ROLLBACK_PIPELINE_NAME } from '../release/rollback-execution';

/** Archived assemblies, as the release recorder writes them. */
export const ARCHIVED_ASSEMBLIES = 'releases/*/cloud-assembly.zip';

export interface RollbackPipelineProps {
  readonly config: AppConfig;
  /** The release ledger: read by Resolve, appended to by Record. */
  readonly ledgerTable: dynamodb.ITable;
  /** The release archive (`releases/v<version>/cloud-assembly.zip`). */
  readonly archiveBucket: s3.IBucket;
  /** The pipelines' artifact bucket. */
  readonly artifactBucket: s3.IBucket;
  /** Key for the notification topic and the CodeBuild artifacts. */
  readonly encryptionKey: kms.IKey;
  /** The release pipeline whose prod promotions a rollback pauses (named in notifications). */
  readonly releasePipelineName: string;
  /** Default `notes-rollback`. */
  readonly pipelineName?: string;
  /** The deploy kit (pinned CDK CLI, the Plan and Deploy scripts): this pipeline's source. */
  readonly deployKit: DeployKit;
  /** Default: `config.pipeline.rollbackApproval`. */
  readonly requireApproval?: boolean;
}

export class RollbackPipeline extends Construct {
  readonly pipeline: codepipeline.Pipeline;
  readonly pipelineName: string;
  readonly pipelineArn: string;
  /** Approval requests and rollback outcomes; subscribed by `pipeline.opsOwnerEmails`. */
  readonly topic: sns.Topic;
  readonly resolveFunction: lambda.IFunction;
  readonly recordFunction: lambda.IFunction;
  /** Prepares and renders the rollback's change set before the approval. */
  readonly planProject: codebuild.PipelineProject;
  /** Executes that change set. */
  readonly deployProject: codebuild.PipelineProject;

  constructor(scope: Construct, id: string, props: RollbackPipelineProps) {
    super(scope, id);
    const { config } = props;
    const stack = Stack.of(this);
    const prod = productionEnvironment(config);
    const prodTarget: DeployTarget = { account: prod.account, region: prod.region };
    const prodStackName = notesStackName(prod);
    this.pipelineName = props.pipelineName ?? ROLLBACK_PIPELINE_NAME;
    this.pipelineArn = Arn.format({ service: 'codepipeline', resource: this.pipelineName }, stack);
    const requireApproval = props.requireApproval ?? config.pipeline.rollbackApproval;
    const archivedAssemblies = props.archiveBucket.arnForObjects(ARCHIVED_ASSEMBLIES);

    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Notes rollback: approvals and outcomes',
      masterKey: props.encryptionKey,
      enforceSSL: true,
    });
    for (const email of config.pipeline.opsOwnerEmails) this.topic.addSubscription(new subscriptions.EmailSubscription(email));

    // --- Source: the deploy kit -----------------------------------------------------------------
    const kit = props.deployKit;
    const kitArtifact = new codepipeline.Artifact('DeployKit');
    const source = new actions.S3SourceAction({
      actionName: ROLLBACK_STAGES.source.action,
      bucket: kit.bucket,
      bucketKey: kit.s3ObjectKey,
      output: kitArtifact,
      // No polling, no events: the pipeline has no automatic start of any kind.
      trigger: actions.S3Trigger.NONE,
    });

    // --- Resolve --------------------------------------------------------------------------------
    const resolve = new ServiceFunction(this, 'Resolve', {
      entry: 'lambda/rollback-resolve/index.ts',
      description: `Rollback pipeline ${this.pipelineName}: resolves the target release and checks its archived assembly`,
      timeout: Duration.minutes(2),
      memorySize: 512,
      logRetention: logs.RetentionDays.ONE_YEAR,
      logRemovalPolicy: RemovalPolicy.RETAIN,
      environment: {
        PIPELINE_NAME: this.pipelineName,
        ARCHIVE_BUCKET: props.archiveBucket.bucketName,
        LEDGER_TABLE: props.ledgerTable.tableName,
      },
    });
    resolve.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'ReadReleaseLedger', actions: ['dynamodb:GetItem', 'dynamodb:Query'], resources: [props.ledgerTable.tableArn] }),
    );
    resolve.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'ReadArchivedAssemblies', actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: [archivedAssemblies] }),
    );
    this.allowReadingOwnExecutions(resolve.role);
    allowJobReporting(resolve.role);
    this.acknowledgeArchiveRead(resolve.role, archivedAssemblies);
    this.resolveFunction = resolve.function;

    const resolveAction = new actions.LambdaInvokeAction({
      actionName: ROLLBACK_STAGES.resolve.action,
      lambda: resolve.function,
      variablesNamespace: RESOLVE_NAMESPACE,
      // Only the execution id: the free-text variables are read from the execution, so no value can break the JSON.
      userParameters: { executionId: '#{codepipeline.PipelineExecutionId}' },
    });
    const targetVersion = resolveAction.variable('TARGET_VERSION');
    const fromVersion = resolveAction.variable('FROM_VERSION');

    // --- Plan -----------------------------------------------------------------------------------
    const executionId = { value: '#{codepipeline.PipelineExecutionId}' };
    this.planProject = this.kitProject(props, prodTarget, prodStackName, archivedAssemblies, {
      id: 'Plan',
      description: `Rollback: plans ${prodStackName} from an archived cloud assembly (change set prepared, not executed)`,
      commands: ['bash rollback-plan.sh', '. ./.pipeline/plan/plan.env'],
      exportedVariables: PLAN_VARIABLES,
      artifacts: { 'base-directory': '.pipeline/plan', files: ['plan.md', 'plan.json'] },
      readsArchive: true,
      throughPlanRole: true,
    });
    const planArtifact = new codepipeline.Artifact('RollbackPlan');
    const planAction = new actions.CodeBuildAction({
      actionName: ROLLBACK_STAGES.plan.action,
      project: this.planProject,
      input: kitArtifact,
      outputs: [planArtifact],
      variablesNamespace: 'Plan',
      environmentVariables: {
        ...Object.fromEntries(
          ['TARGET_VERSION', 'ARTIFACT_BUCKET', 'ARTIFACT_KEY', 'ARTIFACT_VERSION_ID', 'ARTIFACT_SHA256'].map((name) => [name, { value: resolveAction.variable(name) }]),
        ),
        EXECUTION_ID: executionId,
      },
    });

    // --- Approve --------------------------------------------------------------------------------
    const reason = `#{variables.${ROLLBACK_VARIABLES.reason}}`;
    const requestedBy = `#{variables.${ROLLBACK_VARIABLES.requestedBy}}`;
    const approve = new actions.ManualApprovalAction({
      actionName: ROLLBACK_STAGES.approve.action,
      notificationTopic: this.topic,
      additionalInformation:
        `ROLLBACK of ${prod.name} from v${fromVersion} to v${targetVersion} (commit ${resolveAction.variable('TARGET_COMMIT')}), ` +
        `no build, no tests: the archived assembly of that release. Reason: ${reason}. Requested by: ${requestedBy}. ` +
        `Prod ${planAction.variable('PLAN_SUMMARY')}. Plan: ${planAction.variable('PLAN_URL')} Change set: ${planAction.variable('CHANGE_SET_URL')} ` +
        'Runbook: docs/runbooks/rollback.md',
      timeout: Duration.days(1),
    });

    // --- Deploy ---------------------------------------------------------------------------------
    this.deployProject = this.kitProject(props, prodTarget, prodStackName, archivedAssemblies, {
      id: 'Deploy',
      description: `Rollback: deploys ${prodStackName} by executing the reviewed change set (no build, no tests)`,
      commands: ['bash rollback-deploy.sh'],
      readsArchive: false,
      throughPlanRole: false,
    });
    const deploy = new actions.CodeBuildAction({
      actionName: ROLLBACK_STAGES.deploy.action,
      project: this.deployProject,
      input: kitArtifact,
      environmentVariables: { TARGET_VERSION: { value: targetVersion }, EXECUTION_ID: executionId },
    });

    // --- Verify ---------------------------------------------------------------------------------
    const smokeTest = smokeTestFunction(this, prod, config);
    const verify = new actions.LambdaInvokeAction({
      actionName: ROLLBACK_STAGES.verify.action,
      lambda: smokeTest,
      role: smokeInvokeRole(this, prod, config),
      userParameters: { expectedVersion: targetVersion },
      variablesNamespace: 'Verify',
    });

    // --- Record ---------------------------------------------------------------------------------
    const record = new ServiceFunction(this, 'Record', {
      entry: 'lambda/rollback-record/index.ts',
      description: `Rollback pipeline ${this.pipelineName}: records the rollback in the ledger and notifies`,
      timeout: Duration.minutes(1),
      memorySize: 256,
      logRetention: logs.RetentionDays.ONE_YEAR,
      logRemovalPolicy: RemovalPolicy.RETAIN,
      environment: {
        PIPELINE_NAME: this.pipelineName,
        RELEASE_PIPELINE_NAME: props.releasePipelineName,
        LEDGER_TABLE: props.ledgerTable.tableName,
        TOPIC_ARN: this.topic.topicArn,
      },
    });
    record.role.addToPrincipalPolicy(
      // Append only: a conditional put; no update, no delete.
      new iam.PolicyStatement({ sid: 'AppendToReleaseLedger', actions: ['dynamodb:PutItem'], resources: [props.ledgerTable.tableArn] }),
    );
    this.topic.grantPublish(record.role);
    this.allowReadingOwnExecutions(record.role);
    allowJobReporting(record.role);
    this.recordFunction = record.function;
    const recordAction = new actions.LambdaInvokeAction({
      actionName: ROLLBACK_STAGES.record.action,
      lambda: record.function,
      userParameters: { executionId: '#{codepipeline.PipelineExecutionId}' },
    });

    // --- The pipeline ---------------------------------------------------------------------------
    const stages: codepipeline.StageProps[] = [
      { stageName: ROLLBACK_STAGES.source.stage, actions: [source] },
      { stageName: ROLLBACK_STAGES.resolve.stage, actions: [resolveAction] },
      { stageName: ROLLBACK_STAGES.plan.stage, actions: [planAction] },
      ...(requireApproval ? [{ stageName: ROLLBACK_STAGES.approve.stage, actions: [approve] }] : []),
      { stageName: ROLLBACK_STAGES.deploy.stage, actions: [deploy] },
      { stageName: ROLLBACK_STAGES.verify.stage, actions: [verify] },
      { stageName: ROLLBACK_STAGES.record.stage, actions: [recordAction] },
    ];
    this.pipeline = new codepipeline.Pipeline(this, 'Pipeline', {
      pipelineName: this.pipelineName,
      pipelineType: codepipeline.PipelineType.V2,
      // One rollback at a time; a second start waits (the CLI refuses it outright).
      executionMode: codepipeline.ExecutionMode.QUEUED,
      artifactBucket: props.artifactBucket,
      restartExecutionOnUpdate: false,
      variables: [
        new codepipeline.Variable({
          variableName: ROLLBACK_VARIABLES.targetVersion,
          defaultValue: PREVIOUS_RELEASE,
          description: 'Version to put back in prod (1.2.3 or v1.2.3), or "previous" for the release before the one prod runs now.',
        }),
        new codepipeline.Variable({
          variableName: ROLLBACK_VARIABLES.reason,
          defaultValue: NO_REASON,
          description: 'Why prod is rolled back (required: Resolve refuses the default).',
        }),
        new codepipeline.Variable({
          variableName: ROLLBACK_VARIABLES.requestedBy,
          defaultValue: UNKNOWN_REQUESTER,
          description: 'Who asks for the rollback (the CLI sets the caller ARN; the ledger records who started the execution).',
        }),
      ],
      stages,
    });

    // Failed or stopped executions never reach Record: the same function records them from the event.
    this.pipeline.onStateChange('RecordEndedRollback', {
      description: `Records failed or stopped executions of ${this.pipelineName} in the release ledger and notifies`,
      eventPattern: { detail: { state: ['FAILED', 'STOPPED'] } },
      target: new targets.LambdaFunction(record.function, { retryAttempts: 4, maxEventAge: Duration.hours(6) }),
    });

    this.acknowledgeGeneratedGrants(props, [resolve.function, record.function, smokeTest]);
  }

  /**
   * A step of the kit (its pinned CDK CLI and bundled scripts) that works on prod: Plan, through the
   * prod plan role only (and may read archived assemblies), or Deploy, through the bootstrap deploy
   * roles (executes the planned change set).
   */
  private kitProject(
    props: RollbackPipelineProps,
    target: DeployTarget,
    stackName: string,
    archivedAssemblies: string,
    step: {
      id: string;
      description: string;
      commands: string[];
      exportedVariables?: readonly string[];
      artifacts?: Record<string, unknown>;
      readsArchive: boolean;
      /** Plan: the prod plan role only (PLAN_ROLE_ARN); Deploy: the bootstrap deploy roles (DEPLOY_ROLE_ARN). */
      throughPlanRole: boolean;
    },
  ): codebuild.PipelineProject {
    const holder = new Construct(this, step.id);
    const logGroup = new logs.LogGroup(holder, 'Logs', { retention: logs.RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN });
    const project = new codebuild.PipelineProject(holder, 'Project', {
      description: step.description,
      environment: { buildImage: BUILD_IMAGE, computeType: codebuild.ComputeType.SMALL },
      environmentVariables: {
        STACK_NAME: { value: stackName },
        TARGET_REGION: { value: target.region },
        ...(step.throughPlanRole
          ? { PLAN_ROLE_ARN: { value: planRoleArn(target, props.config.service) } }
          : { DEPLOY_ROLE_ARN: { value: deployRoleArn(this, target) } }),
      },
      encryptionKey: props.encryptionKey,
      logging: { cloudWatch: { logGroup } },
      timeout: Duration.minutes(45),
      buildSpec: codebuild.BuildSpec.fromObject({
        version: '0.2',
        ...(step.exportedVariables ? { env: { 'exported-variables': [...step.exportedVariables] } } : {}),
        phases: {
          install: { 'runtime-versions': { nodejs: BUILD_NODE_VERSION }, commands: [KIT_INSTALL] },
          build: { commands: step.commands },
        },
        ...(step.artifacts ? { artifacts: step.artifacts } : {}),
      }),
    });
    project.addToRolePolicy(step.throughPlanRole ? assumePlanRoleStatement(target, props.config.service) : assumeBootstrapRolesStatement(this, target));
    if (step.readsArchive) {
      project.addToRolePolicy(
        new iam.PolicyStatement({ sid: 'ReadArchivedAssemblies', actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: [archivedAssemblies] }),
      );
      this.acknowledgeArchiveRead(project, archivedAssemblies);
    }
    const stack = Stack.of(project);
    acknowledgeWildcardResource(
      project,
      stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: `/aws/codebuild/${project.projectName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      "CDK's CodeBuild project grants writes to the log streams of its default /aws/codebuild/<project> group (streams are named per build, hence :*); this project logs to its own log group, so the grant covers a group it does not use.",
    );
    acknowledgeWildcardResource(
      project,
      stack.formatArn({ service: 'codebuild', resource: 'report-group', resourceName: `${project.projectName}-*` }),
      "CDK's CodeBuild project lets builds create test report groups named after the project (<project>-<report>); the wildcard is limited to this project's own report groups.",
    );
    return project;
  }

  private allowReadingOwnExecutions(role: iam.IRole): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadOwnExecutions',
        actions: ['codepipeline:GetPipelineExecution', 'codepipeline:ListActionExecutions'],
        resources: [this.pipelineArn],
      }),
    );
  }

  private acknowledgeArchiveRead(scope: Construct, archivedAssemblies: string): void {
    acknowledgeWildcardResource(
      scope,
      archivedAssemblies,
      'Which release is rolled back to is chosen at run time, so this may read any archived cloud assembly (releases/<version>/cloud-assembly.zip) and nothing else in the archive: no release notes, no list, no write.',
    );
  }

  /** The wildcards in the grants CDK makes when it binds the actions, each with the reason it is needed. */
  private acknowledgeGeneratedGrants(props: RollbackPipelineProps, invoked: lambda.IFunction[]): void {
    const artifactReason =
      'Pipeline artifacts are objects with generated keys under the pipeline-name prefix of the shared artifact bucket (and the rollback kit is one object in the CDK asset bucket); CDK grants the pipeline, source and build roles object read (and for producers write) there. The artifacts are working copies; releases are kept in the archive bucket.';
    for (const action of ['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*']) acknowledgeWildcardAction(this, action, artifactReason);
    acknowledgeWildcardResource(this, props.artifactBucket.arnForObjects('*'), artifactReason);
    const keyReason =
      'The pipeline key encrypts the rollback topic and the CodeBuild outputs; CDK grants encrypt/decrypt on that one key (GenerateDataKey* and ReEncrypt* are the KMS action families an encrypting principal needs), never on any other key.';
    acknowledgeWildcardAction(this, 'kms:GenerateDataKey*', keyReason);
    acknowledgeWildcardAction(this, 'kms:ReEncrypt*', keyReason);
    acknowledgeWildcardResource(
      this,
      '*',
      'The Lambda invoke actions get lambda:ListFunctions, which supports no resource-level permission (it lists names, no code or data); invoking is granted on the named functions only.',
    );
    for (const fn of invoked) {
      acknowledgeWildcardResource(
        this,
        `${fn.functionArn}:*`,
        'Invoke permission on one named function also covers its versions and aliases (function ARN + ":*"), as CDK grants it; no other function can be invoked.',
      );
    }
  }

}
