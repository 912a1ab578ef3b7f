/**
 * The CodeBuild steps of the pipelines: the build (tests, audit, version check, synth), the
 * self-update of the pipeline stack, the per-environment deploy, and the prod stateful-change guard.
 * Build and deploy logic that is more than a command lives in `lib/release/scripts/*.ts` (run with
 * `npx tsx`), where it is unit-tested.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { assumeBootstrapRolesStatement, deployRoleArn, DeployTarget } from './bootstrap';
import { acknowledgeWildcardResource } from './nag';
import { NOTES_STACK_OUTPUTS } from '../release/scripts/stack-outputs';

/** Node.js major the builds run on (CodeBuild runtime-versions); the Lambdas run on Node 22 too. */
export const BUILD_NODE_VERSION = '22';
/** Ubuntu standard image 7.0: supports Node 22 through runtime-versions. */
export const BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0;
/** The variables the Build action exports (CodeBuild `exported-variables`). */
export const BUILD_VARIABLES = ['VERSION', 'COMMIT', 'CHANGE_SUMMARY', 'PR_URL'] as const;
/** The variables a deploy action exports: the stack's outputs and its name. */
export const DEPLOY_VARIABLES = [...NOTES_STACK_OUTPUTS, 'STACK_NAME'] as const;

/** The Source artifact is a CodeBuild clone reference; every step checks out the same commit. */
const SOURCE_DIR = '$CODEBUILD_SRC_DIR';
/** CodeBuild places the secondary input artifact named `Assembly` here. */
const ASSEMBLY_DIR = '$CODEBUILD_SRC_DIR_Assembly';

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
}

/**
 * The Build step: refuses an already released version first (cheap), then lint, type check, tests,
 * the dependency audit, and `cdk synth` with the release identity. Its only output is the cloud
 * assembly. A release runs every test; a hotfix runs lint and the unit tests (no reliability suite).
 * The role reads the ledger and nothing else beyond logs and artifacts; it assumes no role.
 */
export function buildProject(scope: Construct, id: string, props: BuildProjectProps): codebuild.PipelineProject {
  const tests =
    props.kind === 'release'
      ? ['npm run typecheck', 'npx jest --ci']
      : ['npm run typecheck', 'npx jest --ci --testPathIgnorePatterns test/reliability'];
  const p = project(scope, id, props, {
    description: `Notes ${props.kind} build: version check, lint, tests, audit, cdk synth`,
    computeType: codebuild.ComputeType.MEDIUM,
    environmentVariables: {
      LEDGER_TABLE: { value: props.ledgerTable.tableName },
      SOURCE_OWNER: { value: props.owner },
      SOURCE_REPO: { value: props.repo },
    },
    buildSpec: {
      version: '0.2',
      env: { 'exported-variables': [...BUILD_VARIABLES] },
      phases: {
        install: install(),
        build: {
          commands: [
            `npx tsx lib/release/scripts/release-version.ts --kind ${props.kind} --out .pipeline/vars.env`,
            '. ./.pipeline/vars.env',
            'npm run lint',
            ...tests,
            'npm audit --audit-level=high',
            'npx cdk synth --quiet -c releaseVersion="$VERSION" -c commitSha="$COMMIT"',
          ],
        },
      },
      artifacts: { 'base-directory': 'cdk.out', files: ['**/*'] },
      cache: { paths: ['/root/.npm/**/*'] },
    },
  });
  p.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'ReadReleaseLedger',
      actions: ['dynamodb:GetItem', 'dynamodb:Query'],
      resources: [props.ledgerTable.tableArn],
    }),
  );
  return p;
}

/**
 * A step that runs the CDK CLI against the release's cloud assembly through the target's CDK
 * bootstrap roles: `npm ci` for the locked CLI and our scripts, then `commands` from the source
 * checkout. Its role may assume the target's deploy and file-publishing roles and nothing else.
 */
function assemblyStepProject(scope: Construct, id: string, common: CommonProps, props: {
  description: string;
  target: DeployTarget;
  commands: string[];
  exportedVariables?: readonly string[];
  environmentVariables?: Record<string, codebuild.BuildEnvironmentVariable>;
}): codebuild.PipelineProject {
  const p = project(scope, id, common, {
    description: props.description,
    environmentVariables: props.environmentVariables,
    buildSpec: {
      version: '0.2',
      ...(props.exportedVariables ? { env: { 'exported-variables': [...props.exportedVariables] } } : {}),
      phases: {
        install: install(),
        build: { commands: [`cd ${SOURCE_DIR}`, ...props.commands] },
      },
      cache: { paths: ['/root/.npm/**/*'] },
    },
  });
  p.addToRolePolicy(assumeBootstrapRolesStatement(scope, props.target));
  return p;
}

export interface DeployProjectProps extends CommonProps {
  readonly stackName: string;
  readonly target: DeployTarget;
}

/**
 * Deploys one stack from the cloud assembly (`cdk deploy --app <assembly>`) through the CDK
 * bootstrap roles, and exports the stack's outputs as variables. Its role may assume the target's
 * deploy and file-publishing roles and nothing else.
 */
export function deployProject(scope: Construct, id: string, props: DeployProjectProps): codebuild.PipelineProject {
  return assemblyStepProject(scope, id, props, {
    description: `Deploys ${props.stackName} from the release's cloud assembly`,
    target: props.target,
    exportedVariables: DEPLOY_VARIABLES,
    commands: [
      `npx cdk deploy --app "${ASSEMBLY_DIR}" ${props.stackName} --exclusively --require-approval never --outputs-file .pipeline/outputs.json`,
      `npx tsx lib/release/scripts/stack-outputs.ts --file .pipeline/outputs.json --stack ${props.stackName} --out .pipeline/outputs.env`,
      '. ./.pipeline/outputs.env',
    ],
  });
}

/**
 * The stateful-change guard: prepares the prod change set from the assembly without executing it
 * (`cdk deploy --no-execute`), then `scripts/stateful-guard.ts` reads it through the deploy role,
 * deletes it, and fails the step when a table or user pool would be removed or replaced, unless the
 * action's ALLOW_STATEFUL_CHANGE (the pipeline variable) is `true`. Same role as a deploy.
 */
export function statefulGuardProject(scope: Construct, id: string, props: DeployProjectProps): codebuild.PipelineProject {
  return assemblyStepProject(scope, id, props, {
    description: `Refuses changes that remove or replace stateful resources of ${props.stackName}`,
    target: props.target,
    environmentVariables: { ALLOW_STATEFUL_CHANGE: { value: 'false' } },
    commands: [
      'CHANGE_SET="notes-guard-$CODEBUILD_BUILD_NUMBER"',
      `npx cdk deploy --app "${ASSEMBLY_DIR}" ${props.stackName} --exclusively --require-approval never --no-execute --change-set-name "$CHANGE_SET"`,
      `npx tsx lib/release/scripts/stateful-guard.ts --stack ${props.stackName} --change-set "$CHANGE_SET" --region ${props.target.region} --role-arn "${deployRoleArn(scope, props.target)}" --allow "$ALLOW_STATEFUL_CHANGE"`,
    ],
  });
}

export interface SelfUpdateProjectProps extends CommonProps {
  readonly pipelineStackName: string;
  readonly target: DeployTarget;
}

/**
 * Brings the pipeline stack up to date with the commit being released. `cdk deploy` skips an
 * unchanged stack; when the pipeline's definition did change, CloudFormation updates it, CodePipeline
 * stops this execution once the step ends, and (restartExecutionOnUpdate) starts a fresh one that
 * runs the new definition.
 */
export function selfUpdateProject(scope: Construct, id: string, props: SelfUpdateProjectProps): codebuild.PipelineProject {
  return assemblyStepProject(scope, id, props, {
    description: `Updates ${props.pipelineStackName} from the release's cloud assembly when its definition changed`,
    target: props.target,
    commands: [`npx cdk deploy --app "${ASSEMBLY_DIR}" ${props.pipelineStackName} --exclusively --require-approval never`],
  });
}
