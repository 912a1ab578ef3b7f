/**
 * What the pinned CDK CLI itself calls for `cdk deploy <stack> --no-execute --force
 * --change-set-name <name>` (the Plan steps), with the role the cloud assembly names for the stack.
 * Read from the CLI's source (node_modules/aws-cdk/lib/index.js, @aws-cdk/toolkit-lib
 * `deployStack`, `FullCloudFormationDeployment.changeSetDeployment`, `EnvironmentResources
 * .validateVersion`, cdk-assets `FileAssetHandler.publish`), as SDK commands with their inputs, so
 * test/iam/support/actions.ts maps them to IAM like every recorded call; the two requests
 * CloudFormation makes with the caller's credentials while it creates the change set are given as
 * IAM requests.
 *
 *   - CloudFormationStack.lookup: DescribeStacks of the stack; its template (GetTemplate) when it exists;
 *   - validateVersion: GetParameter of the bootstrap version parameter the stack names;
 *   - lookupToolkit / cross-account asset check: DescribeStacks of CDKToolkit (a denial is tolerated:
 *     the CLI logs it at debug level and goes on);
 *   - file assets, per destination (the template is one): ListObjectsV2 (exists?), GetBucketEncryption,
 *     PutObject (a multipart upload for large files: the same s3:PutObject), with the bucket's KMS key
 *     through S3 (kms:GenerateDataKey, and kms:Decrypt to complete a multipart upload);
 *   - cleanupOldChangeset (stack exists): DeleteChangeSet of the same name, DescribeChangeSet until gone;
 *   - CreateChangeSet with RoleARN = the CloudFormation execution role (iam:PassRole) and TemplateURL
 *     in the bootstrap bucket (CloudFormation reads it as the caller: s3:GetObject) and the
 *     BootstrapVersion parameter of type AWS::SSM::Parameter::Value (CloudFormation resolves it as
 *     the caller: ssm:GetParameters); DescribeChangeSet until it is ready (every page);
 *   - updateTerminationProtection: only when the stack's protection differs from the template's,
 *     which for the prod stack (protection on) is its first create (the change set made the stack
 *     REVIEW_IN_PROGRESS, without protection).
 * `--no-execute` means no ExecuteChangeSet; a stack in ROLLBACK_COMPLETE would make the CLI delete it
 * first (DeleteStack): the Plan step must never run the CLI on such a stack.
 */
import { readFileSync } from 'node:fs';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { ArnContext, iamRequestsOf, IamRequest } from './actions';
import { PARTITION } from './cfn';

export interface CliCall {
  /** An SDK command (mapped by actions.ts) or, for CloudFormation's own reads as the caller, the IAM request. */
  readonly command?: string;
  readonly input?: Record<string, unknown>;
  readonly request?: IamRequest;
  /** When the CLI makes it. */
  readonly when: string;
}

function placeholders(text: string, ctx: ArnContext): string {
  return text.replace(/\$\{AWS::AccountId\}/g, ctx.account).replace(/\$\{AWS::Region\}/g, ctx.region).replace(/\$\{AWS::Partition\}/g, PARTITION);
}

/** The calls of `cdk deploy --no-execute --force --change-set-name <name>` of one stack, as the role the assembly names. */
export function cdkDeployNoExecuteCalls(artifact: cxapi.CloudFormationStackArtifact, changeSetName: string, ctx: ArnContext): CliCall[] {
  const StackName = artifact.stackName;
  const calls: CliCall[] = [
    { command: 'DescribeStacksCommand', input: { StackName }, when: 'always' },
    { command: 'GetTemplateCommand', input: { StackName }, when: 'the stack exists' },
    { command: 'DescribeStacksCommand', input: { StackName: 'CDKToolkit' }, when: 'always (a denial is tolerated)' },
  ];
  if (artifact.bootstrapStackVersionSsmParameter) {
    calls.push({ command: 'GetParameterCommand', input: { Name: artifact.bootstrapStackVersionSsmParameter }, when: 'always' });
  }
  for (const dep of artifact.dependencies) {
    if (!(dep instanceof cxapi.AssetManifestArtifact)) continue;
    const manifest = JSON.parse(readFileSync(dep.file, 'utf8')) as { files?: Record<string, { destinations: Record<string, { bucketName: string; objectKey: string }> }> };
    for (const file of Object.values(manifest.files ?? {})) {
      for (const d of Object.values(file.destinations)) {
        const Bucket = placeholders(d.bucketName, ctx);
        calls.push(
          { command: 'ListObjectsV2Command', input: { Bucket }, when: 'always' },
          { command: 'GetBucketEncryptionCommand', input: { Bucket }, when: 'always (a denial is tolerated)' },
          { command: 'PutObjectCommand', input: { Bucket, Key: d.objectKey }, when: 'the asset is not in the bucket yet' },
        );
      }
    }
  }
  calls.push(
    { command: 'DeleteChangeSetCommand', input: { StackName, ChangeSetName: changeSetName }, when: 'the stack exists' },
    { command: 'DescribeChangeSetCommand', input: { StackName, ChangeSetName: changeSetName }, when: 'always' },
    { command: 'CreateChangeSetCommand', input: { StackName, ChangeSetName: changeSetName }, when: 'always' },
    { command: 'UpdateTerminationProtectionCommand', input: { StackName }, when: "the stack's first create (termination protection on in the template)" },
  );
  if (artifact.cloudFormationExecutionRoleArn) {
    calls.push({
      request: { action: 'iam:PassRole', resource: placeholders(artifact.cloudFormationExecutionRoleArn, ctx), context: { 'iam:PassedToService': 'cloudformation.amazonaws.com' } },
      when: 'always (CreateChangeSet RoleARN)',
    });
  }
  const templateUrl = artifact.stackTemplateAssetObjectUrl;
  if (templateUrl) {
    const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(placeholders(templateUrl, ctx)) ?? [];
    calls.push({ request: { action: 's3:GetObject', resource: `arn:${PARTITION}:s3:::${bucket}/${key}` }, when: 'always (CloudFormation reads TemplateURL as the caller)' });
  }
  if (artifact.bootstrapStackVersionSsmParameter) {
    calls.push({
      request: { action: 'ssm:GetParameters', resource: `arn:${PARTITION}:ssm:${ctx.region}:${ctx.account}:parameter${artifact.bootstrapStackVersionSsmParameter}` },
      when: 'always (CloudFormation resolves the BootstrapVersion parameter as the caller)',
    });
  }
  return calls;
}

/** The IAM requests of those calls; `bucketKey` is the bootstrap bucket's KMS key, used through S3 for every upload. */
export function cliRequests(calls: CliCall[], ctx: ArnContext, bucketKey?: string): IamRequest[] {
  const out: IamRequest[] = [];
  for (const c of calls) {
    if (c.request) out.push(c.request);
    else {
      const mapped = iamRequestsOf(c.command!, c.input ?? {}, ctx);
      if (!mapped) throw new Error(`test/iam/support/actions.ts has no mapping of ${c.command}, which the CDK CLI calls`);
      out.push(...mapped);
      if (c.command === 'PutObjectCommand' && bucketKey) {
        // S3 calls KMS for the caller: AWS sets kms:ViaService to S3's endpoint in that region, and
        // kms:CallerAccount to the caller's account (the bucket's: the roles that publish are in it).
        const context = { 'kms:ViaService': `s3.${ctx.region}.amazonaws.com`, 'kms:CallerAccount': ctx.account };
        out.push({ action: 'kms:GenerateDataKey', resource: bucketKey, context }, { action: 'kms:Decrypt', resource: bucketKey, context });
      }
    }
  }
  return out;
}
