/**
 * `NotesPipeline`: the release machinery. The release and hotfix pipelines, the release archive
 * bucket, the release ledger table, the pipelines' artifact bucket, and the rollback
 * pipeline. Deployed once by hand (`npx cdk deploy NotesPipeline`); afterwards it keeps itself
 * up to date through the release pipeline's SelfUpdate step.
 */
import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { AppConfig, notesStackName, productionEnvironment, resourcePrefix } from '../config';
import { LEDGER_KEYS, LEDGER_OUTPUT } from '../release/ledger';
import { ROLLBACK_STAGES } from '../release/rollback-execution';
import { DeployKit } from './deploy-kit';
import { FailureRecorder } from './failure-recorder';
import { jobReporterRoles } from './job-reporters';
import { isCrossAccount, readerRoleName, roleArn } from '../target-account';
import { dataRestorePolicy, releaseOperatorPolicy } from './operator-policies';
import { ReleasePipeline, STAGE } from './release-pipeline';
import { ARCHIVED_ASSEMBLIES, RollbackPipeline } from './rollback-pipeline';
import { LIVE_ALIAS } from '../traffic-shift';

export const PIPELINE_STACK_NAME = 'NotesPipeline';
export const RELEASE_PIPELINE_NAME = 'notes-release';
export const HOTFIX_PIPELINE_NAME = 'notes-hotfix';
/** Stack outputs naming the operators' managed policies (docs/runbooks/rollback.md, restore-data.md). */
export const OPERATOR_POLICY_OUTPUTS = { release: 'ReleaseOperatorPolicyArn', restore: 'DataRestorePolicyArn' } as const;

export interface NotesPipelineStackProps extends StackProps {
  readonly config: AppConfig;
}

export class NotesPipelineStack extends Stack {
  readonly config: AppConfig;
  /** Release archive: `releases/v<version>/cloud-assembly.zip` and `release-notes.md`. */
  readonly archiveBucket: s3.Bucket;
  /** The release ledger. */
  readonly ledgerTable: dynamodb.Table;
  /** Pipelines' artifact bucket (shared by every pipeline of this stack). */
  readonly artifactBucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;
  /** Key for the pipelines' SNS topics, CodeBuild outputs and the artifact bucket (the artifact store's key). */
  readonly pipelineKey: kms.Key;
  readonly releasePipeline: ReleasePipeline;
  readonly hotfixPipeline: ReleasePipeline;
  readonly rollbackPipeline: RollbackPipeline;
  /** The deploy kit every deploy step runs (an asset of this stack). */
  readonly deployKit: DeployKit;
  /** Writes a FAILED ledger entry for every prod attempt of the release and hotfix pipelines that did not become a release. */
  readonly failureRecorder: FailureRecorder;
  /** For release operators: every call of `npm run release` (status ... reject). */
  readonly releaseOperatorPolicy: iam.ManagedPolicy;
  /** For whoever restores data: every call of `npm run restore`. */
  readonly dataRestorePolicy: iam.ManagedPolicy;
  /** Roles through which smoke tests in other accounts report their jobs, by environment name. */
  readonly jobReporters: Record<string, iam.Role>;

  constructor(scope: Construct, id: string, props: NotesPipelineStackProps) {
    super(scope, id, { stackName: PIPELINE_STACK_NAME, description: 'Notes release, hotfix and rollback pipelines, release archive and ledger', ...props });
    const { config } = props;
    this.config = config;

    this.pipelineKey = new kms.Key(this, 'PipelineKey', {
      description: 'Notes pipelines: approval topics, build outputs and the artifact store',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.archiveBucket = new s3.Bucket(this, 'ArchiveBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'archive/',
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // Encrypted with the pipeline key, the key the CodeBuild steps encrypt their outputs with: the
    // pipelines' artifact store then names that key, and CDK grants kms:Decrypt (and, to writers,
    // GenerateDataKey) on it to every reader of an artifact: the pipeline roles, each action role
    // (a Lambda step reads through the artifactCredentials of its action role) and each CodeBuild
    // project. An SSE-S3 bucket left the key out of those grants, so nothing could read the assembly.
    this.artifactBucket = new s3.Bucket(this, 'ArtifactBucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.pipelineKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'artifacts/',
      // Pipeline artifacts are working copies; releases are kept in the archive bucket.
      lifecycleRules: [{ expiration: Duration.days(90), noncurrentVersionExpiration: Duration.days(7) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.ledgerTable = new dynamodb.Table(this, 'ReleaseLedger', {
      partitionKey: { name: LEDGER_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: LEDGER_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // One kit object for every deploy step of the three pipelines (lib/release/deploy-kit/).
    this.deployKit = new DeployKit(this, 'DeployKit');
    const shared = {
      config,
      deployKit: this.deployKit,
      ledgerTable: this.ledgerTable,
      archiveBucket: this.archiveBucket,
      artifactBucket: this.artifactBucket,
      encryptionKey: this.pipelineKey,
    };
    const { source } = config.pipeline;

    this.releasePipeline = new ReleasePipeline(this, 'Release', {
      ...shared,
      pipelineName: RELEASE_PIPELINE_NAME,
      sourceBranch: source.branch,
      triggerBranches: [source.branch],
      buildKind: 'release',
      approvals: [{ actionName: 'ApproveRelease', emails: config.pipeline.approverEmails, role: 'release approver' }],
      selfUpdateStackName: PIPELINE_STACK_NAME,
    });

    this.hotfixPipeline = new ReleasePipeline(this, 'Hotfix', {
      ...shared,
      pipelineName: HOTFIX_PIPELINE_NAME,
      // A manual start builds main; hotfixes arrive by pushes to the hotfix branches.
      sourceBranch: source.branch,
      triggerBranches: [config.pipeline.hotfixBranchPattern],
      buildKind: 'hotfix',
      approvals: [
        { actionName: 'SeniorReview', emails: config.pipeline.approverEmails, role: 'senior reviewer' },
        { actionName: 'OpsOwner', emails: config.pipeline.opsOwnerEmails, role: 'ops owner' },
      ],
    });

    // Started only by operators (no trigger). The release pipeline's SelfUpdate deploys this
    // stack, so a rollback must never start itself on a definition change: see RollbackPipeline.
    this.rollbackPipeline = new RollbackPipeline(this, 'Rollback', {
      ...shared,
      releasePipelineName: this.releasePipeline.pipelineName,
    });

    this.jobReporters = jobReporterRoles(this, config);

    this.failureRecorder = new FailureRecorder(this, 'FailureRecorder', {
      pipelines: [this.releasePipeline, this.hotfixPipeline].map((p) => ({ pipeline: p.pipeline, pipelineName: p.pipelineName })),
      prodStageName: this.releasePipeline.prodStageName,
      ledgerTable: this.ledgerTable,
    });

    // Least privilege for people: what `npm run release` and `npm run restore` call, and no more.
    const prod = productionEnvironment(config);
    const approvalsOf = (p: ReleasePipeline) =>
      Object.keys(p.approvalTopics).map((actionName) => ({ pipelineName: p.pipelineName, stageName: STAGE.approve, actionName }));
    this.releaseOperatorPolicy = releaseOperatorPolicy(this, 'ReleaseOperatorPolicy', {
      managedPolicyName: `${config.service}-release-operator`,
      releasePipelineName: this.releasePipeline.pipelineName,
      hotfixPipelineName: this.hotfixPipeline.pipelineName,
      rollbackPipelineName: this.rollbackPipeline.pipelineName,
      prodStageName: this.releasePipeline.prodStageName,
      approvals: [
        ...approvalsOf(this.releasePipeline),
        ...approvalsOf(this.hotfixPipeline),
        ...(config.pipeline.rollbackApproval
          ? [{ pipelineName: this.rollbackPipeline.pipelineName, stageName: ROLLBACK_STAGES.approve.stage, actionName: ROLLBACK_STAGES.approve.action }]
          : []),
      ],
      ledgerTableArn: this.ledgerTable.tableArn,
      stacks: [
        { stackName: PIPELINE_STACK_NAME, region: this.region, account: config.pipeline.account },
        { stackName: notesStackName(prod), region: prod.region, account: prod.account },
      ],
      prodStack: { stackName: notesStackName(prod), region: prod.region, account: prod.account },
      archivedAssembliesArn: this.archiveBucket.arnForObjects(ARCHIVED_ASSEMBLIES),
      liveAliasArn: Stack.of(this).formatArn({
        service: 'lambda',
        resource: 'function',
        resourceName: `${resourcePrefix(config, prod)}-api:${LIVE_ALIAS}`,
        region: prod.region,
        account: prod.account ?? Stack.of(this).account,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
      prodReaderRoleArn: isCrossAccount(prod, config.pipeline.account) ? roleArn(prod.account!, readerRoleName(config.service, prod.region), this.partition) : undefined,
    });
    this.dataRestorePolicy = dataRestorePolicy(this, 'DataRestorePolicy', {
      managedPolicyName: `${config.service}-data-restore`,
      stacks: config.environments.map((e) => ({ stackName: notesStackName(e), region: e.region, account: e.account })),
    });
    new CfnOutput(this, OPERATOR_POLICY_OUTPUTS.release, {
      value: this.releaseOperatorPolicy.managedPolicyArn,
      description: 'Managed policy for release operators (npm run release); attach through a permission set or role',
    });
    new CfnOutput(this, OPERATOR_POLICY_OUTPUTS.restore, {
      value: this.dataRestorePolicy.managedPolicyArn,
      description: 'Managed policy for data restores (npm run restore); attach through a permission set or role',
    });

    // The operator CLI finds the ledger through this output.
    new CfnOutput(this, LEDGER_OUTPUT, {
      value: this.ledgerTable.tableName,
      description: 'Release ledger table (releases and rollbacks), read by npm run release',
    });
  }
}
