/**
 * Pipeline step "backups validated" (Lambda invoke action in the prod stage). UserParameters:
 * `{"stackName":"NotesStack-prod","region":"eu-west-1","maxAgeMinutes":15}`, plus `"roleArn"` (prod's
 * read-only release role) when prod is in another account than the pipeline. Reports the job once.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { assumedRoleCredentials } from '../../lib/release/assumed-credentials';
import { jobOf, parseJsonParameters, runJob } from '../../lib/release/job';
import { checkBackups, parseBackupCheckParameters } from './check';

const codepipeline = new CodePipelineClient({});

export async function handler(event: unknown): Promise<void> {
  const job = jobOf(event);
  if (!job) throw new Error('backup-check: not a CodePipeline job event');
  await runJob(codepipeline, job.id, async () => {
    const params = parseBackupCheckParameters(parseJsonParameters(job.userParameters, 'backups validated'));
    // Prod in another account: both reads go through its read-only release role.
    const credentials = params.roleArn ? { credentials: assumedRoleCredentials(params.roleArn, 'notes-backup-check', { region: params.region }) } : {};
    const clients = {
      cloudformation: new CloudFormationClient({ region: params.region, ...credentials }),
      dynamodb: new DynamoDBClient({ region: params.region, ...credentials }),
    };
    return checkBackups(clients, params, new Date());
  });
}
