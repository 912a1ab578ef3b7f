/**
 * The CodeBuild steps of the pipelines: the build (tests, audit, version check, synth), the
 * self-update of the pipeline stack, the per-environment deploy, the prod plan (with the
 * stateful-change guard) and prod's execution of that plan.
 * Build and deploy logic that is more than a command lives in `lib/release/scripts/*.ts`, where it
 * is unit-tested: the Build step runs it from the commit (`npx tsx`); every deploy step runs it
 * bundled in the deploy kit (`lib/release/deploy-kit/`, `lib/pipeline/deploy-kit.ts`), never from a
 * checkout.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { assumeBootstrapRolesStatement, assumePlanRoleStatement, deployRoleArn, DeployTarget, lookupRoleArn, planRoleArn } from './bootstrap';
import { acknowledgeWildcardResource } from './nag';
import { NOTES_STACK_OUTPUTS } from '../release/scripts/stack-outputs';

/** Node.js major the builds run on (CodeBuild runtime-versions); the Lambdas run on Node 22 too. */
export const BUILD_NODE_VERSION = '22';
/** Ubuntu standard image 7.0: supports Node 22 through runtime-versions. */
export const BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0;
/** The variables the Build action exports (CodeBuild `exported-variables`). */
export const BUILD_VARIABLES = ['VERSION', 'COMMIT', 'CHANGE_SUMMARY', 'PR_URL', 'PR_APPROVERS', 'KNOWN_ISSUES', 'COMMIT_TIMES'] as const;
/** The CodeDeploy deployment that moved the live alias, and how it ended (`scripts/shift-outcome.ts`). */
export const SHIFT_VARIABLES = ['CODEDEPLOY_DEPLOYMENT_ID', 'CODEDEPLOY_OUTCOME'] as const;
/** The variables a deploy action exports: the stack's outputs, its name and its traffic shift. */
export const DEPLOY_VARIABLES = [...NOTES_STACK_OUTPUTS, 'STACK_NAME', ...SHIFT_VARIABLES] as const;


export type BuildKind = 'release' | 'hotfix';

interface CommonProps {
  readonly encryptionKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
}

function logGroup(scope: Construct, retention: logs.RetentionDays): logs.LogGroup {
  return new logs.LogGroup(scope, 'Logs', { retention, removalPolicy: RemovalPolicy.RETAIN });
}

function install(): Record<string, unknown> {
  return {
    'runtime-versions': { nodejs: BUILD_NODE_VERSION },
    commands: ['node --version', 'npm ci --no-audit --no-fund'],
  };
}

/** Every project's shape: small image, own log group, encrypted, npm cache kept on the build host. */
function project(scope: Construct, id: string, common: CommonProps, props: {
  description: string;
  buildSpec: Record<string, unknown>;
  environmentVariables?: Record<string, codebuild.BuildEnvironmentVariable>;
  computeType?: codebuild.ComputeType;
  timeout?: Duration;
}): codebuild.PipelineProject {
  const holder = new Construct(scope, id);
  const logs = logGroup(holder, common.logRetention);
  const p = new codebuild.PipelineProject(holder, 'Project', {
    description: props.description,
    environment: { buildImage: BUILD_IMAGE, computeType: props.computeType ?? codebuild.ComputeType.SMALL },
    environmentVariables: props.environmentVariables,
    buildSpec: codebuild.BuildSpec.fromObject(props.buildSpec),
    encryptionKey: common.encryptionKey,
    logging: { cloudWatch: { logGroup: logs } },
    cache: codebuild.Cache.local(codebuild.LocalCacheMode.CUSTOM),
    timeout: props.timeout ?? Duration.minutes(30),
  });
  const stack = Stack.of(p);
  acknowledgeWildcardResource(
    p,
    stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: `/aws/codebuild/${p.projectName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    "CDK's CodeBuild project grants writes to the log streams of its default /aws/codebuild/<project> group (streams are named per build, hence :*); this project logs to its own log group, so the grant covers a group it does not use.",
  );
  acknowledgeWildcardResource(
    p,
    stack.formatArn({ service: 'codebuild', resource: 'report-group', resourceName: `${p.projectName}-*` }),
    "CDK's CodeBuild project lets builds create test report groups named after the project (<project>-<report>); the wildcard is limited to this project's own report groups.",
  );
  return p;
}

export interface BuildProjectProps extends CommonProps {
  readonly kind: BuildKind;
  readonly ledgerTable: dynamodb.ITable;
  readonly owner: string;
  readonly repo: string;
  /** Secrets Manager name of the read-only GitHub token of the pull-request approvals gate. */
  readonly gitReadTokenSecretName: string;
  /** The gate's rules (PR_APPROVALS_POLICY): release branch, security paths and group, architecture paths. */
  readonly approvalPolicy: {
    releaseBranch: string;
    securityPaths: string[];
    securityReviewers: { team?: string; logins?: string[] };
    architecturePaths: string[];
  };
  /**
   * Hotfix builds only: the pipeline (physical name) and its hotfix branch glob. The build then
   * first refuses an execution that is not a push to a hotfix branch (the run CodePipeline starts
   * on creation, a manual start, both of which build main); the action passes the execution id
   * and the source branch as PIPELINE_EXECUTION_ID and SOURCE_BRANCH.
   */
  readonly hotfixCheck?: { readonly pipelineName: string; readonly branchPattern: string };
  /** Longest CHANGE_SUMMARY the approval text has room for (release-version.ts --summary-max). */
  readonly changeSummaryMax: number;
}

/**
 * The Build step: refuses an already released version first (cheap), then lint, type check, tests,
 * the dependency audit, and `cdk synth` with the release identity. Its only output is the cloud
 * assembly. A release runs every test; a hotfix runs lint and the unit tests (no reliability suite).
 * The version check also runs the pull-request approvals gate (`lib/release/scripts/pr-gate.ts`);
 * its rules come from this project's definition (the deployed pipeline), not from the commit under
 * test, so a pull request cannot loosen the gate it is judged by. A hotfix build first refuses an
 * execution that is not a push to a hotfix branch (`hotfixCheck`).
 * The role reads the ledger, the read-only GitHub token (and a hotfix build its own executions) and
 * nothing else beyond logs and artifacts; it assumes no role.
 */
export function buildProject(scope: Construct, id: string, props: BuildProjectProps): codebuild.PipelineProject {
  const tests =
    props.kind === 'release'
      ? ['npm run typecheck', 'npx jest --ci', 'npm run test:iam']
      : ['npm run typecheck', 'npx jest --ci --testPathIgnorePatterns test/reliability', 'npm run test:iam'];
  const check = props.hotfixCheck;
  if (check && /['\\]/.test(check.branchPattern)) throw new Error(`hotfix branch pattern ${check.branchPattern} may not contain quotes or backslashes`);
  const triggerCheck = check
    ? [`npx tsx lib/release/scripts/hotfix-trigger.ts --pipeline ${check.pipelineName} --execution "$PIPELINE_EXECUTION_ID" --branch "$SOURCE_BRANCH" --pattern '${check.branchPattern}'`]
    : [];
  const p = project(scope, id, props, {
    description: `Notes ${props.kind} build: version check, lint, tests, audit, cdk synth`,
    computeType: codebuild.ComputeType.MEDIUM,
    environmentVariables: {
      LEDGER_TABLE: { value: props.ledgerTable.tableName },
      SOURCE_OWNER: { value: props.owner },
      SOURCE_REPO: { value: props.repo },
      // The secret's name, not its value: the script reads the token through the SDK, so it is in
      // no environment variable that npm, jest or cdk synth could print or pass on.
      GIT_READ_TOKEN_SECRET_NAME: { value: props.gitReadTokenSecretName },
      PR_APPROVALS_POLICY: { value: JSON.stringify(props.approvalPolicy) },
    },
    buildSpec: {
      version: '0.2',
      env: { 'exported-variables': [...BUILD_VARIABLES] },
      phases: {
        install: install(),
        build: {
          commands: [
            ...triggerCheck,
            `npx tsx lib/release/scripts/release-version.ts --kind ${props.kind} --out .pipeline/vars.env --summary-max ${props.changeSummaryMax}`,
            '. ./.pipeline/vars.env',
            'npm run lint',
            ...tests,
            'npm audit --audit-level=high',
            // With CDK's template validation, which an interactive synth leaves out (bin/app.ts).
            'CDK_VALIDATION=true npx cdk synth --quiet -c releaseVersion="$VERSION" -c commitSha="$COMMIT"',
          ],
        },
      },
      artifacts: { 'base-directory': 'cdk.out', files: ['**/*'] },
      cache: { paths: ['/root/.npm/**/*'] },
    },
  });
  if (check) {
    p.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadOwnExecutionTrigger',
        actions: ['codepipeline:GetPipelineExecution'],
        resources: [Stack.of(p).formatArn({ service: 'codepipeline', resource: check.pipelineName })],
      }),
    );
  }
  p.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'ReadReleaseLedger',
      actions: ['dynamodb:GetItem', 'dynamodb:Query'],
      resources: [props.ledgerTable.tableArn],
    }),
  );
  // GetSecretValue and DescribeSecret on this one secret (name-??????), never on the write token.
  secretsmanager.Secret.fromSecretNameV2(p, 'GitReadToken', props.gitReadTokenSecretName).grantRead(p);
  return p;
}

/**
 * How every deploy step installs: in the deploy kit only (its lockfile pins the CDK CLI), with no
 * package's install scripts. No deploy step has a checkout of the repository.
 */
export const KIT_INSTALL = 'npm ci --ignore-scripts --no-audit --no-fund';

/**
 * A deploy step: runs one script of the deploy kit (`lib/release/deploy-kit/<script>`, the action's
 * primary input; the cloud assembly is its second input, at `$CODEBUILD_SRC_DIR_Assembly`), then
 * sources the variable files the script wrote. No code of the commit runs here: the kit was
 * published with the pipeline stack, and the assembly is data. Its role may assume the target's
 * deploy and file-publishing roles (or, `assumes` given, only that statement's roles) and nothing
 * else (callers add what more a step needs).
 */
function kitStepProject(scope: Construct, id: string, common: CommonProps, props: {
  description: string;
  target: DeployTarget;
  script: string;
  /** Variable files the script writes, sourced after it so the action exports them. */
  sources?: string[];
  exportedVariables?: readonly string[];
  environmentVariables?: Record<string, codebuild.BuildEnvironmentVariable>;
  artifacts?: Record<string, unknown>;
  /** The one sts:AssumeRole statement of the role (default: the target's bootstrap deploy and file-publishing roles). */
  assumes?: iam.PolicyStatement;
}): codebuild.PipelineProject {
  const p = project(scope, id, common, {
    description: props.description,
    environmentVariables: props.environmentVariables,
    buildSpec: {
      version: '0.2',
      ...(props.exportedVariables ? { env: { 'exported-variables': [...props.exportedVariables] } } : {}),
      phases: {
        install: { 'runtime-versions': { nodejs: BUILD_NODE_VERSION }, commands: ['node --version', KIT_INSTALL] },
        build: { commands: [`bash ${props.script}`, ...(props.sources ?? []).map((file) => `. ./${file}`)] },
      },
      ...(props.artifacts ? { artifacts: props.artifacts } : {}),
      cache: { paths: ['/root/.npm/**/*'] },
    },
  });
  p.addToRolePolicy(props.assumes ?? assumeBootstrapRolesStatement(scope, props.target));
  return p;
}

export interface DeployProjectProps extends CommonProps {
  readonly stackName: string;
  readonly target: DeployTarget;
}

export interface NotesDeployProjectProps extends DeployProjectProps {
  /** The pipeline whose executions run this step (its stage rollback deploys all at once). */
  readonly pipelineName: string;
}

/** The action variable a deploy step reads its execution id from (`#{codepipeline.PipelineExecutionId}`). */
export const PIPELINE_EXECUTION_ID = 'PIPELINE_EXECUTION_ID';

/** The files a deploy script writes its stack's outputs and traffic shift to. */
const OUTPUT_FILES = ['.pipeline/outputs.env', '.pipeline/shift.env'];

/** The variables of a notes-stack deploy step: the stack, where it is, its pipeline, the lookup role. */
function deployEnvironment(scope: Construct, props: NotesDeployProjectProps): Record<string, codebuild.BuildEnvironmentVariable> {
  return {
    STACK_NAME: { value: props.stackName },
    TARGET_REGION: { value: props.target.region },
    PIPELINE_NAME: { value: props.pipelineName },
    // Set by the action (`#{codepipeline.PipelineExecutionId}`).
    [PIPELINE_EXECUTION_ID]: { value: '' },
    LOOKUP_ROLE_ARN: { value: lookupRoleArn(scope, props.target) },
  };
}

/** What every notes-stack deploy step may do beyond the bootstrap roles: read the shift, read its own executions. */
function allowDeployStepReads(p: codebuild.PipelineProject, props: NotesDeployProjectProps): void {
  p.addToRolePolicy(
    new iam.PolicyStatement({ sid: 'AssumeCdkLookupRoleToReadTheShift', actions: ['sts:AssumeRole'], resources: [lookupRoleArn(p, props.target)] }),
  );
  p.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'ReadOwnPipelineExecutions',
      actions: ['codepipeline:GetPipelineExecution'],
      resources: [Stack.of(p).formatArn({ service: 'codepipeline', resource: props.pipelineName })],
    }),
  );
}

/**
 * A pre-production environment's deploy (the kit's `deploy.sh`): `cdk deploy --app <assembly>` of
 * one stack through the CDK bootstrap roles, after printing its plan (`cdk diff`) in the build log,
 * then the stack's outputs and its traffic shift as the action's variables. The stack's
 * DeploymentConfig parameter is passed explicitly: the environment's strategy in a release, all at
 * once when the execution is the stage's rollback. Its role may assume the target's deploy,
 * file-publishing and lookup roles and read its own pipeline's executions, nothing else.
 * Pre-production only: prod executes its reviewed plan instead.
 */
export function deployProject(scope: Construct, id: string, props: NotesDeployProjectProps): codebuild.PipelineProject {
  const p = kitStepProject(scope, id, props, {
    description: `Deploys ${props.stackName} from the release's cloud assembly`,
    target: props.target,
    exportedVariables: DEPLOY_VARIABLES,
    environmentVariables: deployEnvironment(scope, props),
    script: 'deploy.sh',
    sources: OUTPUT_FILES,
  });
  allowDeployStepReads(p, props);
  return p;
}

/** The variables the Plan action exports (`lib/release/scripts/render-plan.ts`). */
export const PLAN_VARIABLES = ['PLAN_SUMMARY', 'PLAN_SHA256', 'CHANGE_SET_NAME', 'CHANGE_SET_URL', 'PLAN_URL'] as const;

export interface PlanProjectProps extends NotesDeployProjectProps {
  /** The service name (`notes`): the prod plan role is named after it (`lib/target-account.ts`). */
  readonly service: string;
}

/**
 * The Plan step, before the approval (the kit's `plan.sh`): prepares the prod change set
 * `notes-plan-<execution id>` from the release's cloud assembly without executing it, with the
 * environment's DeploymentConfig, renders it, applies the stateful-change guard to it (unless
 * ALLOW_STATEFUL_CHANGE is `true`) and exports its summary, hash and links. Its output artifact is
 * the plan (`plan.md`, `plan.json`). It works through the prod **plan role** only (the CDK CLI runs
 * on a copy of the assembly that names that role, `scripts/plan-assembly.ts`): its role may assume
 * that role and nothing else, so nothing before the approval can execute a change set or change a
 * stack in prod.
 */
export function planProject(scope: Construct, id: string, props: PlanProjectProps): codebuild.PipelineProject {
  return kitStepProject(scope, id, props, {
    description: `Plans ${props.stackName}: prepares and renders the change set the approver reviews`,
    target: props.target,
    exportedVariables: PLAN_VARIABLES,
    environmentVariables: {
      STACK_NAME: { value: props.stackName },
      TARGET_REGION: { value: props.target.region },
      PLAN_ROLE_ARN: { value: planRoleArn(props.target, props.service) },
      ALLOW_STATEFUL_CHANGE: { value: 'false' },
      [PIPELINE_EXECUTION_ID]: { value: '' },
    },
    script: 'plan.sh',
    sources: ['.pipeline/plan/plan.env'],
    artifacts: { 'base-directory': '.pipeline/plan', files: ['plan.md', 'plan.json'] },
    assumes: assumePlanRoleStatement(props.target, props.service),
  });
}

/**
 * Prod's deploy (the kit's `prod-deploy.sh`): executes this execution's reviewed change set by name
 * and waits; it never prepares a change set of its own. When the reviewed plan is the creation of
 * the whole stack (its first create failed; RecoverFailedCreate cleared it just before), it checks
 * the assembly's template against the plan (the Plan artifact is its third input) and creates the
 * stack with `cdk deploy`. In a stage rollback (CodePipeline re-running
 * the stage with the previous release's artifacts) there is no plan of this execution: it deploys
 * that earlier, already released assembly directly, all at once. Then, like every deploy, it
 * exports the stack's outputs and its traffic shift.
 */
export function prodDeployProject(scope: Construct, id: string, props: NotesDeployProjectProps): codebuild.PipelineProject {
  const p = kitStepProject(scope, id, props, {
    description: `Deploys ${props.stackName} by executing the reviewed change set`,
    target: props.target,
    exportedVariables: DEPLOY_VARIABLES,
    environmentVariables: {
      ...deployEnvironment(scope, props),
      DEPLOY_ROLE_ARN: { value: deployRoleArn(scope, props.target) },
      // Set by the action: the plan's CHANGE_SET_NAME (`create` when the plan creates the whole stack).
      PLAN_CHANGE_SET: { value: '' },
    },
    script: 'prod-deploy.sh',
    sources: OUTPUT_FILES,
  });
  allowDeployStepReads(p, props);
  return p;
}

/**
 * The Prod stage's first step, after the approval (the kit's `recover-failed-create.sh`,
 * `scripts/failed-create.ts`): a stack left in ROLLBACK_COMPLETE is deleted through the deploy role
 * when it holds nothing (termination protection off first), so the release can create it; otherwise
 * the step fails naming what is left and the commands that clear it. Same role as a deploy; needs
 * the kit only (no cloud assembly).
 */
export function failedCreateProject(scope: Construct, id: string, props: DeployProjectProps): codebuild.PipelineProject {
  return kitStepProject(scope, id, props, {
    description: `Clears ${props.stackName} when its first create failed (ROLLBACK_COMPLETE), or says how to`,
    target: props.target,
    environmentVariables: {
      STACK_NAME: { value: props.stackName },
      TARGET_REGION: { value: props.target.region },
      DEPLOY_ROLE_ARN: { value: deployRoleArn(scope, props.target) },
    },
    script: 'recover-failed-create.sh',
  });
}

export interface SelfUpdateProjectProps extends CommonProps {
  readonly pipelineStackName: string;
  readonly target: DeployTarget;
}

/**
 * Brings the pipeline stack up to date with the commit being released (the kit's `self-update.sh`).
 * `cdk deploy` skips an unchanged stack; when the pipeline's definition did change, CloudFormation
 * updates it, CodePipeline stops this execution once the step ends, and (restartExecutionOnUpdate)
 * starts a fresh one that runs the new definition.
 */
export function selfUpdateProject(scope: Construct, id: string, props: SelfUpdateProjectProps): codebuild.PipelineProject {
  return kitStepProject(scope, id, props, {
    description: `Updates ${props.pipelineStackName} from the release's cloud assembly when its definition changed`,
    target: props.target,
    environmentVariables: { STACK_NAME: { value: props.pipelineStackName } },
    script: 'self-update.sh',
  });
}
