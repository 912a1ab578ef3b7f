/**
 * The release pipeline, built from the environments list: Source -> Build -> one stage per
 * pre-production environment (deploy + smoke test) -> PlanProd (the prod change set is prepared,
 * rendered and judged by the stateful-change guard, through the prod plan role; a prod stack whose
 * first create failed is planned as a create) -> ApproveProd (the approver sees that plan) ->
 * UpdatePipeline (release pipeline only: the pipelines' new definition, if any, takes effect) -> Prod
 * (a failed first create is cleared, backups check, execute that change set, smoke test; rolls back on failure or on a service-health alarm) -> Release (tag, notes,
 * archive with the plan, ledger). The hotfix pipeline is a second instance with its own
 * trigger branches, a lighter build and two approvals.
 *
 * A plain CodePipeline V2 `Pipeline`, not CDK Pipelines (see the decision log): its structure only
 * changes when this file changes, and it can use stage conditions.
 */
import { Arn, ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { AppConfig, EnvironmentConfig, notesStackName, productionEnvironment, resourcePrefix } from '../config';
import { API_STAGE_NAME } from '../constructs/notes-api';
import { SERVICE_HEALTH_METRIC_ALARMS, serviceHealthMetricAlarmNames } from '../constructs/observability';
import {
  changeSummaryBudget,
  MAX_COMMIT_CHARS,
  MAX_KNOWN_ISSUES_CHARS,
  MAX_PLAN_SUMMARY_CHARS,
  MAX_PR_APPROVERS_CHARS,
  MAX_PR_NUMBER_DIGITS,
  MAX_SMOKE_SUMMARY_CHARS,
  MAX_VERSION_CHARS,
} from '../release/approval-limits';
import { isCrossAccount, readerRoleName, roleArn } from '../target-account';
import { smokeInvokeRole, smokeTestFunction } from './smoke-action';
import { AlarmWatchStep } from './alarm-watch';
import { BackupCheckStep } from './backup-check';
import { DeployTarget } from './bootstrap';
import { DeployKit } from './deploy-kit';
import { acknowledgeWildcardAction, acknowledgeWildcardResource } from './nag';
import { ReleaseRecorderStep } from './release-recorder';
import { BuildKind, buildProject, deployProject, failedCreateProject, PIPELINE_EXECUTION_ID, planProject, prodDeployProject, selfUpdateProject } from './steps';

/**
 * The longest value each variable the approval text quotes can have (CHANGE_SUMMARY aside): VERSION,
 * COMMIT and PR_URL as the build bounds them, PR_APPROVERS and KNOWN_ISSUES as the approvals gate
 * bounds them, SMOKE_SUMMARY as the smoke test bounds it, PLAN_SUMMARY as the Plan step bounds it,
 * ApiUrl an execute-api stage URL (`https://<10-character id>.execute-api.<region>.<url suffix>/<stage>/`).
 */
export function approvalVariableMaxima(owner: string, repo: string, preProduction: Pick<EnvironmentConfig, 'region'>[]): Record<string, number> {
  const longestRegion = Math.max(0, ...preProduction.map((e) => e.region.length));
  const longestUrlSuffix = 'amazonaws.com.cn'.length;
  return {
    VERSION: MAX_VERSION_CHARS,
    COMMIT: MAX_COMMIT_CHARS,
    PR_URL: Math.max('none'.length, `https://github.com/${owner}/${repo}/pull/`.length + MAX_PR_NUMBER_DIGITS),
    PR_APPROVERS: MAX_PR_APPROVERS_CHARS,
    KNOWN_ISSUES: MAX_KNOWN_ISSUES_CHARS,
    SMOKE_SUMMARY: MAX_SMOKE_SUMMARY_CHARS,
    PLAN_SUMMARY: MAX_PLAN_SUMMARY_CHARS,
    ApiUrl: `https://${'x'.repeat(10)}.execute-api.${'x'.repeat(longestRegion)}.${'x'.repeat(longestUrlSuffix)}/${API_STAGE_NAME}/`.length,
  };
}

/** Rules one stage condition may hold (CodePipeline API Condition.rules: 1 to 5 items). */
export const MAX_RULES_PER_CONDITION = 5;

/** `api-5xx-rate` -> `Api5xxRate` (rule names are letters, digits and a few signs). */
function ruleSuffix(alarmSuffix: string): string {
  return alarmSuffix
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** The pipeline variable that lets one execution replace or remove a table or user pool. */
export const ALLOW_STATEFUL_CHANGE = 'ALLOW_STATEFUL_CHANGE';
/** Stage names that are not environments. */
export const STAGE = { source: 'Source', build: 'Build', plan: 'PlanProd', approve: 'ApproveProd', updatePipeline: 'UpdatePipeline', release: 'Release' } as const;
/** The id of the running execution, as a CodePipeline variable (it names the prod change set). */
export const EXECUTION_ID_VARIABLE = '#{codepipeline.PipelineExecutionId}';

/** An environment's stage name: `dev` -> `Dev`. */
export function environmentStageName(env: Pick<EnvironmentConfig, 'name'>): string {
  return env.name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** Who must approve before prod; each entry becomes one manual approval action. */
export interface Approval {
  readonly actionName: string;
  readonly emails: string[];
  /** Who this approval is for, shown in the approval text (e.g. "senior reviewer"). */
  readonly role: string;
}

export interface ReleasePipelineProps {
  readonly config: AppConfig;
  /** Physical pipeline name, e.g. `notes-release`. */
  readonly pipelineName: string;
  /** Git branch (or glob) patterns whose pushes start the pipeline. */
  readonly triggerBranches: string[];
  /** The branch a manual start builds (the source action's branch). */
  readonly sourceBranch: string;
  readonly buildKind: BuildKind;
  readonly approvals: Approval[];
  /** Name of the stack holding the pipelines; set to add the self-update step (release pipeline only). */
  readonly selfUpdateStackName?: string;
  readonly ledgerTable: dynamodb.ITable;
  readonly archiveBucket: s3.IBucket;
  readonly artifactBucket: s3.IBucket;
  readonly encryptionKey: kms.IKey;
  /** The deploy kit every deploy step runs (the pipeline's second source; see lib/pipeline/deploy-kit.ts). */
  readonly deployKit: DeployKit;
  /** Minutes the prod stage watches the service-health metric alarms after the smoke test (default 10). */
  readonly alarmWatchMinutes?: number;
}

export class ReleasePipeline extends Construct {
  readonly pipeline: codepipeline.Pipeline;
  readonly pipelineName: string;
  readonly pipelineArn: string;
  /** The name of the production stage (the CLI pauses promotions by disabling its inbound transition). */
  readonly prodStageName: string;
  /** The notification topics of the approvals, by action name. */
  readonly approvalTopics: Record<string, sns.Topic> = {};
  /** Failed executions (a refused build, a failed smoke test, a prod stage rolled back): approvers and ops owners. */
  readonly failureTopic: sns.Topic;
  /** Deploy projects by environment name (their roles may assume only the bootstrap roles). */
  readonly deployProjects: Record<string, codebuild.PipelineProject> = {};
  readonly buildProject: codebuild.PipelineProject;
  /** The Source action's role (reads the repository through the CodeConnections connection). */
  readonly sourceActionRole: iam.Role;
  /** The source action of the deploy kit (an S3 object of the pipeline stack's assets, never a trigger). */
  readonly kitSourceAction: actions.S3SourceAction;
  readonly selfUpdateProject?: codebuild.PipelineProject;
  /** Prepares and renders the prod change set before the approval (and applies the stateful-change guard to it). */
  readonly planProject: codebuild.PipelineProject;
  /** Clears a prod stack left in ROLLBACK_COMPLETE by a failed first create (or says how). */
  readonly failedCreateProject: codebuild.PipelineProject;
  readonly backupCheck: BackupCheckStep;
  /** Prod in another account only: the step that watches prod's alarms after the deploy (else the stage's CloudWatchAlarm rules do). */
  readonly alarmWatch?: AlarmWatchStep;
  readonly recorder: ReleaseRecorderStep;

  constructor(scope: Construct, id: string, props: ReleasePipelineProps) {
    super(scope, id);
    const { config } = props;
    const stack = Stack.of(this);
    const common = { encryptionKey: props.encryptionKey, logRetention: logs.RetentionDays.ONE_YEAR };
    const { owner, repo, connectionArn } = config.pipeline.source;
    const prod = productionEnvironment(config);
    const preProduction = config.environments.filter((e) => e.kind === 'pre-production');
    const targetOf = (env: EnvironmentConfig): DeployTarget => ({ account: env.account, region: env.region });

    const allowStatefulChange = new codepipeline.Variable({
      variableName: ALLOW_STATEFUL_CHANGE,
      defaultValue: 'false',
      description: 'Set to true when starting an execution that must replace or remove a table or user pool in prod.',
    });

    // --- Source ---------------------------------------------------------------------------
    const source = new codepipeline.Artifact('Source');
    const sourceAction = new actions.CodeStarConnectionsSourceAction({
      actionName: 'Source',
      connectionArn,
      owner,
      repo,
      branch: props.sourceBranch,
      output: source,
      // A clone reference: the build sees the git history (tags, commit messages).
      codeBuildCloneOutput: true,
      triggerOnPush: false,
      variablesNamespace: 'Source',
    });
    // The deploy kit: what every deploy step runs instead of the commit's code. One S3 object,
    // published with the pipeline stack; no trigger, no polling (pushes start the pipeline).
    const kit = new codepipeline.Artifact('DeployKit');
    this.kitSourceAction = new actions.S3SourceAction({
      actionName: 'DeployKit',
      bucket: props.deployKit.bucket,
      bucketKey: props.deployKit.s3ObjectKey,
      output: kit,
      trigger: actions.S3Trigger.NONE,
    });

    // --- The approval text (its length bounds CHANGE_SUMMARY) ------------------------------------
    // CodePipeline limits a configuration value to 1000 characters after substitution: every variable
    // the text quotes is bounded where it is produced, and CHANGE_SUMMARY gets the room that is left
    // (lib/release/approval-limits.ts; the build cuts the summary to it).
    const ref = (namespace: string, name: string) => `#{${namespace}.${name}}`;
    const smokeText = preProduction
      .map((env) => `${env.name} smoke: ${ref(`Smoke${environmentStageName(env)}`, 'SMOKE_SUMMARY')} (API ${ref(`Deploy${environmentStageName(env)}`, 'ApiUrl')})`)
      .join('; ');
    const approvalText = (approval: Approval): string =>
      `${props.buildKind === 'hotfix' ? 'HOTFIX' : 'Release'} v${ref('Build', 'VERSION')} (commit ${ref('Build', 'COMMIT')}) for ${prod.name}, ${approval.role} approval. ` +
      `Changes: ${ref('Build', 'CHANGE_SUMMARY')}. PR: ${ref('Build', 'PR_URL')}, approved by ${ref('Build', 'PR_APPROVERS')}. ` +
      `Known issues: ${ref('Build', 'KNOWN_ISSUES')}. ${smokeText}. ` +
      `Prod ${ref('Plan', 'PLAN_SUMMARY')} (review link: the plan). ` +
      'Runbook: docs/runbooks/approve-release.md';
    const changeSummaryMax = changeSummaryBudget(props.approvals.map(approvalText), approvalVariableMaxima(owner, repo, preProduction));

    // --- Build ----------------------------------------------------------------------------
    const assembly = new codepipeline.Artifact('Assembly');
    // A hotfix build refuses the run CodePipeline starts on creation and manual starts (both build
    // main); the release pipeline's creation run is its first release (see docs/02-cicd.md).
    if (props.buildKind === 'hotfix' && props.triggerBranches.length !== 1) throw new Error('a hotfix pipeline has exactly one hotfix branch pattern');
    const hotfixCheck = props.buildKind === 'hotfix' ? { pipelineName: props.pipelineName, branchPattern: props.triggerBranches[0] } : undefined;
    this.buildProject = buildProject(this, 'BuildStep', {
      ...common,
      kind: props.buildKind,
      ledgerTable: props.ledgerTable,
      owner,
      repo,
      gitReadTokenSecretName: config.pipeline.gitReadTokenSecretName,
      approvalPolicy: { releaseBranch: config.pipeline.source.branch, ...config.pipeline.pullRequestApprovals },
      hotfixCheck,
      changeSummaryMax,
    });
    const buildAction = new actions.CodeBuildAction({
      actionName: 'Build',
      project: this.buildProject,
      input: source,
      outputs: [assembly],
      variablesNamespace: 'Build',
      runOrder: 1,
      environmentVariables: hotfixCheck
        ? {
            PIPELINE_EXECUTION_ID: { value: '#{codepipeline.PipelineExecutionId}' },
            SOURCE_BRANCH: { value: sourceAction.variables.branchName },
          }
        : undefined,
    });
    const version = buildAction.variable('VERSION');
    const commit = buildAction.variable('COMMIT');
    const buildActions: codepipeline.IAction[] = [buildAction];
    // Only the Build step reads the repository; every deploy step gets the kit and the assembly.
    allowCodeConnections(connectionArn, [this.buildProject]);

    // --- Deploy + smoke per environment -------------------------------------------------------
    const deployAndSmoke = (
      env: EnvironmentConfig,
      firstRunOrder: number,
      projectOf: (id: string) => codebuild.PipelineProject = (id) =>
        deployProject(this, id, { ...common, stackName: notesStackName(env), target: targetOf(env), pipelineName: props.pipelineName }),
      extra: { inputs?: codepipeline.Artifact[]; variables?: Record<string, codebuild.BuildEnvironmentVariable> } = {},
    ): { deploy: actions.CodeBuildAction; smoke: actions.LambdaInvokeAction; actions: codepipeline.IAction[] } => {
      const stageName = environmentStageName(env);
      const project = projectOf(`Deploy${stageName}Step`);
      this.deployProjects[env.name] = project;
      const deploy = new actions.CodeBuildAction({
        actionName: 'Deploy',
        project,
        input: kit,
        extraInputs: [assembly, ...(extra.inputs ?? [])],
        variablesNamespace: `Deploy${stageName}`,
        environmentVariables: { [PIPELINE_EXECUTION_ID]: { value: EXECUTION_ID_VARIABLE }, ...extra.variables },
        runOrder: firstRunOrder,
      });
      const smoke = new actions.LambdaInvokeAction({
        actionName: 'SmokeTest',
        lambda: smokeTestFunction(this, env, config),
        role: smokeInvokeRole(this, env, config),
        userParameters: { expectedVersion: version },
        variablesNamespace: `Smoke${stageName}`,
        runOrder: firstRunOrder + 1,
      });
      return { deploy, smoke, actions: [deploy, smoke] };
    };

    const stages: codepipeline.StageProps[] = [
      { stageName: STAGE.source, actions: [sourceAction, this.kitSourceAction] },
      { stageName: STAGE.build, actions: buildActions },
    ];
    for (const env of preProduction) {
      const steps = deployAndSmoke(env, 1);
      stages.push({ stageName: environmentStageName(env), actions: steps.actions });
    }

    // --- PlanProd ---------------------------------------------------------------------------
    // The prod change set is prepared and rendered before anyone approves, and Prod executes
    // exactly that change set: the approver reviews what will run.
    const prodStage = environmentStageName(prod);
    const planTarget = { ...common, stackName: notesStackName(prod), target: targetOf(prod), pipelineName: props.pipelineName };
    this.planProject = planProject(this, 'PlanStep', { ...planTarget, service: config.service });
    const plan = new codepipeline.Artifact('Plan');
    const planAction = new actions.CodeBuildAction({
      actionName: 'Plan',
      project: this.planProject,
      input: kit,
      extraInputs: [assembly],
      outputs: [plan],
      variablesNamespace: 'Plan',
      environmentVariables: { [ALLOW_STATEFUL_CHANGE]: { value: allowStatefulChange.reference() }, [PIPELINE_EXECUTION_ID]: { value: EXECUTION_ID_VARIABLE } },
      runOrder: 1,
    });
    // A prod stack stuck in ROLLBACK_COMPLETE by a failed first create is not cleared here (the plan
    // role can delete nothing): the plan is then the creation of the whole stack, and Prod's first
    // step clears the stack after the approval.
    stages.push({ stageName: STAGE.plan, actions: [planAction] });

    // --- ApproveProd ------------------------------------------------------------------------
    const approvalActions = props.approvals.map((approval) => {
      const topic = new sns.Topic(this, `${approval.actionName}Topic`, {
        displayName: `Notes ${props.buildKind}: ${approval.role} approval needed`,
        masterKey: props.encryptionKey,
        enforceSSL: true,
      });
      for (const email of approval.emails) topic.addSubscription(new subscriptions.EmailSubscription(email));
      this.approvalTopics[approval.actionName] = topic;
      return new actions.ManualApprovalAction({
        actionName: approval.actionName,
        notificationTopic: topic,
        // The review link opens the plan (the Plan step's log), which links the change set; the text
        // names the commit and its pull request.
        externalEntityLink: ref('Plan', 'PLAN_URL'),
        additionalInformation: approvalText(approval),
        timeout: Duration.days(3),
        runOrder: 1,
      });
    });
    stages.push({ stageName: STAGE.approve, actions: approvalActions });

    // --- UpdatePipeline (release pipeline only) ----------------------------------------------
    // The commit's definition of the pipelines takes effect only after the approval: whatever may
    // deploy NotesPipeline may reach prod (prod's bootstrap trusts the pipeline account), so the
    // step that deploys it must not run before a person has approved (decision log, #11). Unchanged:
    // a no-op. Changed: CloudFormation updates the pipelines and CodePipeline starts a fresh
    // execution on the new definition (restartExecutionOnUpdate), which asks for approval again.
    if (props.selfUpdateStackName) {
      this.selfUpdateProject = selfUpdateProject(this, 'SelfUpdateStep', {
        ...common,
        pipelineStackName: props.selfUpdateStackName,
        target: { account: config.pipeline.account, region: config.pipeline.region },
      });
      stages.push({
        stageName: STAGE.updatePipeline,
        actions: [new actions.CodeBuildAction({ actionName: 'SelfUpdate', project: this.selfUpdateProject, input: kit, extraInputs: [assembly], runOrder: 1 })],
      });
    }

    // --- Prod -------------------------------------------------------------------------------
    this.prodStageName = prodStage;
    // Prod in another account: the backups check and the alarm watch read it as its read-only release role.
    const prodReader = isCrossAccount(prod, config.pipeline.account) ? roleArn(prod.account!, readerRoleName(config.service, prod.region), stack.partition) : undefined;
    this.backupCheck = new BackupCheckStep(this, 'BackupCheckStep', { stackName: notesStackName(prod), target: targetOf(prod), readerRoleArn: prodReader });
    // First, after the approval: a prod stack left in ROLLBACK_COMPLETE by a failed first create (it
    // serves nothing and holds nothing, or the step stops and lists what it kept) is deleted through
    // the deploy role, so the backups check sees no stack and Deploy creates it from the plan.
    this.failedCreateProject = failedCreateProject(this, 'FailedCreateStep', { ...common, stackName: notesStackName(prod), target: targetOf(prod) });
    const failedCreate = new actions.CodeBuildAction({ actionName: 'RecoverFailedCreate', project: this.failedCreateProject, input: kit, runOrder: 1 });
    const prodSteps = deployAndSmoke(prod, 3, (id) => prodDeployProject(this, id, planTarget), {
      inputs: [plan],
      variables: { PLAN_CHANGE_SET: { value: planAction.variable('CHANGE_SET_NAME') } },
    });
    // One CloudWatchAlarm rule per metric alarm of the service-health composite: the rule reads a
    // metric alarm (DescribeAlarms returns composites only when asked), and any failing rule fails
    // the condition, so the stage rolls back when any one of them is in ALARM (see the decision log).
    const alarmNames = serviceHealthMetricAlarmNames(resourcePrefix(config, prod));
    if (alarmNames.length > MAX_RULES_PER_CONDITION) {
      throw new Error(`the prod stage can watch at most ${MAX_RULES_PER_CONDITION} alarms in one condition (CodePipeline's limit), got ${alarmNames.length}`);
    }
    const healthRules = SERVICE_HEALTH_METRIC_ALARMS.map(
      (suffix, i) =>
        new codepipeline.Rule({
          name: `${prodStage}${ruleSuffix(suffix)}`,
          provider: 'CloudWatchAlarm',
          version: '1',
          region: prod.region,
          configuration: { AlarmName: alarmNames[i], AlarmStates: 'ALARM', WaitTime: String(props.alarmWatchMinutes ?? 10) },
        }),
    );
    // Prod in another account: CodePipeline's CloudWatchAlarm rule reads an alarm by name in the
    // pipeline's own account, so a watch step reads prod's alarms as prod's reader role instead, last
    // in the stage: an alarm fails it, and onFailure rolls the stage back (decision log, #11).
    const watchMinutes = props.alarmWatchMinutes ?? 10;
    this.alarmWatch = prodReader
      ? new AlarmWatchStep(this, 'AlarmWatchStep', { alarmNames, region: prod.region, watchMinutes, readerRoleArn: prodReader, pipelineName: props.pipelineName })
      : undefined;
    stages.push({
      stageName: prodStage,
      actions: [failedCreate, this.backupCheck.action(2), ...prodSteps.actions, ...(this.alarmWatch ? [this.alarmWatch.action(5)] : [])],
      onFailure: { result: codepipeline.Result.ROLLBACK },
      ...(this.alarmWatch ? {} : { onSuccess: { conditions: [{ result: codepipeline.Result.ROLLBACK, rules: healthRules }] } }),
    });

    // --- Release ----------------------------------------------------------------------------
    this.recorder = new ReleaseRecorderStep(this, 'ReleaseRecorderStep', {
      pipelineName: props.pipelineName,
      archiveBucket: props.archiveBucket,
      ledgerTable: props.ledgerTable,
      gitTokenSecretName: config.pipeline.gitTokenSecretName,
      owner,
      repo,
    });
    stages.push({ stageName: STAGE.release, actions: [this.recorder.action(assembly, { version, commit }, plan)] });

    this.pipeline = new codepipeline.Pipeline(this, 'Pipeline', {
      pipelineName: props.pipelineName,
      pipelineType: codepipeline.PipelineType.V2,
      executionMode: codepipeline.ExecutionMode.QUEUED,
      artifactBucket: props.artifactBucket,
      // Only the release pipeline updates itself; a changed definition restarts it with the new one.
      restartExecutionOnUpdate: props.selfUpdateStackName !== undefined,
      variables: [allowStatefulChange],
      triggers: [
        {
          providerType: codepipeline.ProviderType.CODE_STAR_SOURCE_CONNECTION,
          gitConfiguration: { sourceAction, pushFilter: [{ branchesIncludes: props.triggerBranches }] },
        },
      ],
      stages,
    });
    this.pipelineName = props.pipelineName;
    this.pipelineArn = Arn.format({ service: 'codepipeline', resource: props.pipelineName }, stack);

    // CDK's source action grants only codestar-connections:UseConnection; IAM matches an action's
    // service prefix to the resource's, so an arn:aws:codeconnections: connection needs the new one.
    this.sourceActionRole = actionRole(this.pipeline, STAGE.source, sourceAction.actionProperties.actionName);
    this.sourceActionRole.addToPrincipalPolicy(useConnectionStatement(connectionArn, 'ReadSourceThroughCodeConnections'));

    // A release that stops must not stop silently: every failed execution e-mails the approvers and
    // the ops owners with the pipeline, the execution and where to read which check failed.
    this.failureTopic = new sns.Topic(this, 'FailureTopic', {
      displayName: `Notes ${props.buildKind}: pipeline execution failed`,
      masterKey: props.encryptionKey,
      enforceSSL: true,
    });
    for (const email of new Set([...config.pipeline.approverEmails, ...config.pipeline.opsOwnerEmails])) {
      this.failureTopic.addSubscription(new subscriptions.EmailSubscription(email));
    }
    // The console link is written out here, not with executionConsoleUrl(): that URL-encodes its
    // arguments, which would mangle the EventBridge placeholder for the execution id.
    const executionId = events.EventField.fromPath('$.detail.execution-id');
    this.pipeline.onStateChange('NotifyFailedExecution', {
      description: `E-mails approvers and ops owners when an execution of ${props.pipelineName} fails`,
      eventPattern: { detail: { state: ['FAILED'] } },
      // EventBridge publishes through a role of its own (sns:Publish on this topic, the key for it)
      // rather than a topic policy open to every EventBridge rule.
      target: new targets.SnsTopic(this.failureTopic, {
        authorizeUsingRole: true,
        message: events.RuleTargetInput.fromText(
          `${props.pipelineName} execution ${executionId} FAILED at ${events.EventField.time}. ` +
            'The failed action names the check that stopped it (a failed prod stage has already rolled back). ' +
            `Details: https://${stack.region}.console.aws.amazon.com/codesuite/codepipeline/pipelines/${props.pipelineName}/executions/${executionId}/timeline?region=${stack.region} ` +
            'or npm run release -- status.',
        ),
      }),
    });

    // The CloudWatchAlarm rules run as the pipeline role: it may read those alarms and no other
    // (none when the watch step reads them in prod's account instead).
    if (!this.alarmWatch) this.pipeline.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WatchProdServiceHealthAlarms',
        actions: ['cloudwatch:DescribeAlarms', 'cloudwatch:DescribeAlarmHistory'],
        resources: alarmNames.map((name) =>
          Arn.format({ service: 'cloudwatch', resource: 'alarm', resourceName: name, region: prod.region, account: prod.account ?? stack.account, arnFormat: ArnFormat.COLON_RESOURCE_NAME }, stack),
        ),
      }),
    );

    this.acknowledgeGeneratedGrants(props, [...preProduction, prod].map((env) => smokeTestFunction(this, env, config)));
  }

  /**
   * The wildcards in the grants CDK makes when it binds actions: artifact access, the pipeline key,
   * and Lambda invoke. Each is acknowledged here, on this pipeline, with the reason it is needed.
   */
  private acknowledgeGeneratedGrants(props: ReleasePipelineProps, smokeFunctions: lambda.IFunction[]): void {
    const artifactReason =
      'Pipeline artifacts are objects with generated keys under the pipeline-name prefix of the shared artifact bucket; CDK grants the pipeline, source and build roles object read (and for producers write) on that bucket, which holds only working copies (releases are kept in the archive bucket).';
    for (const action of ['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*']) acknowledgeWildcardAction(this, action, artifactReason);
    acknowledgeWildcardResource(this, props.artifactBucket.arnForObjects('*'), artifactReason);
    const keyReason =
      'The pipeline key encrypts the approval topics and the CodeBuild outputs; CDK grants encrypt/decrypt on that one key (GenerateDataKey* and ReEncrypt* are the KMS action families an encrypting principal needs), never on any other key.';
    acknowledgeWildcardAction(this, 'kms:GenerateDataKey*', keyReason);
    acknowledgeWildcardAction(this, 'kms:ReEncrypt*', keyReason);
    acknowledgeWildcardResource(
      this,
      '*',
      'The Lambda invoke actions get lambda:ListFunctions, which supports no resource-level permission (it lists names, no code or data); invoking is granted on the one named function only.',
    );
    for (const fn of [this.backupCheck.function, this.recorder.function, ...(this.alarmWatch ? [this.alarmWatch.function] : []), ...smokeFunctions]) {
      acknowledgeWildcardResource(
        this,
        `${fn.functionArn}:*`,
        'Invoke permission on one named function also covers its versions and aliases (function ARN + ":*"), as CDK grants it; no other function can be invoked.',
      );
    }
  }
}

/**
 * UseConnection under both IAM prefixes of the service: connections made since the 2024 rename have
 * `arn:aws:codeconnections:` ARNs, older ones `arn:aws:codestar-connections:`, and IAM requires the
 * action's prefix to match the resource's (https://docs.aws.amazon.com/dtconsole/latest/userguide/rename.html).
 */
function useConnectionStatement(connectionArn: string, sid: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    actions: ['codeconnections:UseConnection', 'codestar-connections:UseConnection'],
    resources: [connectionArn],
  });
}

/** Lets CodeBuild clone through the connection under both of its IAM prefixes. */
function allowCodeConnections(connectionArn: string, projects: codebuild.PipelineProject[]): void {
  for (const p of projects) p.addToRolePolicy(useConnectionStatement(connectionArn, 'CloneThroughCodeConnections'));
}

/** The role CDK generated for one action of a pipeline (`<stage>/<action>/CodePipelineActionRole`). */
function actionRole(pipeline: codepipeline.Pipeline, stageName: string, actionName: string): iam.Role {
  const role = pipeline.node.tryFindChild(stageName)?.node.tryFindChild(actionName)?.node.tryFindChild('CodePipelineActionRole');
  if (!(role instanceof iam.Role)) throw new Error(`pipeline ${pipeline.node.path} has no generated role for action ${stageName}/${actionName}`);
  return role;
}
