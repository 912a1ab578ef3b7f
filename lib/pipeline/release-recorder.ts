import { Arn, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ServiceFunction } from '../constructs/service-function';
import { allowJobReporting } from './job-permissions';
import { acknowledgeWildcardResource } from './nag';

export interface ReleaseRecorderStepProps {
  /** The pipeline whose executions this step records (physical name). */
  readonly pipelineName: string;
  readonly archiveBucket: s3.IBucket;
  readonly ledgerTable: dynamodb.ITable;
  /** Secrets Manager name of the token that may push tags and publish releases. */
  readonly gitTokenSecretName: string;
  readonly owner: string;
  readonly repo: string;
}

/** Key prefix under which releases are archived (under `releases/v<version>/`). */
export const ARCHIVE_PREFIX = 'releases/';

/**
 * The Release stage's step (`lambda/release-recorder`): tags the commit, publishes release notes,
 * archives the cloud assembly and writes the ledger record. Its role may write and read only the
 * `releases/` prefix of the archive bucket, put (never update or delete) and read ledger items,
 * read the one git token secret, list its own pipeline's action executions, and report the job.
 */
export class ReleaseRecorderStep extends Construct {
  readonly function: lambda.IFunction;

  constructor(scope: Construct, id: string, props: ReleaseRecorderStepProps) {
    super(scope, id);
    const fn = new ServiceFunction(this, 'Recorder', {
      entry: 'lambda/release-recorder/index.ts',
      description: `Release pipeline ${props.pipelineName}: tags, publishes notes, archives the assembly, records the release`,
      timeout: Duration.minutes(2),
      memorySize: 512,
      logRetention: logs.RetentionDays.ONE_YEAR,
      logRemovalPolicy: RemovalPolicy.RETAIN,
      environment: {
        PIPELINE_NAME: props.pipelineName,
        ARCHIVE_BUCKET: props.archiveBucket.bucketName,
        LEDGER_TABLE: props.ledgerTable.tableName,
        GIT_TOKEN_SECRET_NAME: props.gitTokenSecretName,
        REPO_OWNER: props.owner,
        REPO_NAME: props.repo,
      },
    });
    const role = fn.role;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ArchiveReleases',
        actions: ['s3:PutObject', 's3:GetObject'],
        resources: [props.archiveBucket.arnForObjects(`${ARCHIVE_PREFIX}*`)],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AppendToReleaseLedger',
        // No UpdateItem/DeleteItem: ledger entries are written once (conditional put) and never changed.
        actions: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:Query'],
        resources: [props.ledgerTable.tableArn],
      }),
    );
    const secret = secretsmanager.Secret.fromSecretNameV2(this, 'GitToken', props.gitTokenSecretName);
    secret.grantRead(role);
    const stack = Stack.of(this);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadOwnPipelineHistory',
        actions: ['codepipeline:ListActionExecutions'],
        resources: [Arn.format({ service: 'codepipeline', resource: props.pipelineName }, stack)],
      }),
    );
    allowJobReporting(role);
    acknowledgeWildcardResource(
      role,
      props.archiveBucket.arnForObjects(`${ARCHIVE_PREFIX}*`),
      'The recorder writes each release under its own key prefix releases/v<version>/ (cloud-assembly.zip, release-notes.md, plan.md, plan.json), so it needs put/get on the releases/ prefix; it has no list, delete or access to other prefixes.',
    );
    this.function = fn.function;
  }

  action(input: codepipeline.Artifact, variables: { version: string; commit: string }, plan?: codepipeline.Artifact): actions.LambdaInvokeAction {
    return new actions.LambdaInvokeAction({
      actionName: 'RecordRelease',
      lambda: this.function,
      inputs: plan ? [input, plan] : [input],
      variablesNamespace: 'Release',
      // Only values that cannot break the JSON (semver, hex SHA, execution id); free text such as
      // the change summary is read from the execution history by the function.
      userParameters: { version: variables.version, commit: variables.commit, executionId: '#{codepipeline.PipelineExecutionId}' },
    });
  }
}
