/**
 * A stack holding the rollback pipeline the way `NotesPipelineStack` will (same construct ids for
 * the shared resources), so the construct can be synthesized and nag-checked on its own.
 */
import { App, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { AppConfig } from '../../lib/config';
import { DeployKit } from '../../lib/pipeline/deploy-kit';
import { RollbackPipeline } from '../../lib/pipeline/rollback-pipeline';
import { cdkJsonContext, repoConfig } from '../infra/fixture';

export interface RollbackTestStack {
  app: App;
  stack: Stack;
  rollback: RollbackPipeline;
  template(): Template;
}

export function rollbackTestStack(options: { config?: AppConfig; nagChecks?: boolean; outdir?: string } = {}): RollbackTestStack {
  const config = options.config ?? repoConfig();
  const app = new App({
    context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] },
    outdir: options.outdir,
    builtinCloudFormationValidation: options.nagChecks ?? false,
  });
  const stack = new Stack(app, 'RollbackTest', { env: { account: '123456789012', region: config.pipeline.region } });
  const key = new kms.Key(stack, 'PipelineKey', { enableKeyRotation: true, removalPolicy: RemovalPolicy.RETAIN });
  const logs = new s3.Bucket(stack, 'AccessLogs', {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    versioned: true,
  });
  Validations.of(logs).acknowledge({ id: 'AwsSolutions-S1', reason: 'Test fixture: the access log bucket of the fixture buckets does not log its own access.' });
  const bucket = (id: string) =>
    new s3.Bucket(stack, id, {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: logs,
    });
  const ledgerTable = new dynamodb.Table(stack, 'ReleaseLedger', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
  });
  // As in NotesPipelineStack: the artifact bucket is encrypted with the pipeline key.
  const artifactBucket = new s3.Bucket(stack, 'ArtifactBucket', {
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: key,
    bucketKeyEnabled: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    versioned: true,
    serverAccessLogsBucket: logs,
  });
  const rollback = new RollbackPipeline(stack, 'Rollback', {
    config,
    ledgerTable,
    archiveBucket: bucket('ArchiveBucket'),
    artifactBucket,
    encryptionKey: key,
    releasePipelineName: 'notes-release',
    deployKit: new DeployKit(stack, 'DeployKit'),
  });
  if (options.nagChecks) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  let template: Template | undefined;
  return { app, stack, rollback, template: () => (template ??= Template.fromStack(stack)) };
}
