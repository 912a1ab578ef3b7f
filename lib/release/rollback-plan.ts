/**
 * What a rollback would change in prod, worked out before anything starts: the archived cloud
 * assembly of the target release (checked against the ledger's sha256) against the template prod
 * runs now. The operator CLI prints its summary before it asks for confirmation; the rollback
 * pipeline's Plan step then prepares the real change set, which the approver sees.
 *
 * A template diff, not a change set: the CLI creates nothing in the account before the operator
 * says yes.
 */
import { createHash } from 'crypto';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { strFromU8, unzipSync } from 'fflate';
import { ReleaseRecord } from './ledger';
import { buildPlan, Plan } from './plan';
import { currentTemplate } from './change-set';

/** The stack's template inside a zipped cloud assembly (as the recorder archives it). */
export function templateFromAssemblyZip(zip: Uint8Array, stackName: string): Record<string, unknown> {
  const files = unzipSync(zip);
  const manifestFile = files['manifest.json'];
  if (!manifestFile) throw new Error('the archive is not a cloud assembly (no manifest.json)');
  const manifest = JSON.parse(strFromU8(manifestFile)) as { artifacts?: Record<string, { type?: string; properties?: { templateFile?: string; stackName?: string } }> };
  const entry = Object.entries(manifest.artifacts ?? {}).find(([id, a]) => a.type === 'aws:cloudformation:stack' && (a.properties?.stackName ?? id) === stackName);
  const templateFile = entry?.[1].properties?.templateFile;
  if (!templateFile || !files[templateFile]) throw new Error(`the archived assembly has no stack ${stackName}`);
  return JSON.parse(strFromU8(files[templateFile])) as Record<string, unknown>;
}

export async function rollbackPlan(s3: S3Client, cfn: CloudFormationClient, target: ReleaseRecord, stackName: string, region: string): Promise<Plan> {
  const { bucket, key, versionId, sha256 } = target.artifact;
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }));
  if (!object?.Body) throw new Error(`s3://${bucket}/${key} has no body`);
  const zip = await object.Body.transformToByteArray();
  const actual = createHash('sha256').update(zip).digest('hex');
  if (actual !== sha256) throw new Error(`s3://${bucket}/${key} has sha256 ${actual}, the ledger recorded ${sha256}`);
  return buildPlan({
    stackName,
    changeSetName: '(none yet: the Plan step prepares it)',
    region,
    currentTemplate: await currentTemplate(cfn, stackName),
    newTemplate: templateFromAssemblyZip(zip, stackName),
  });
}
