/**
 * Pipeline step "backups validated" (Lambda invoke action in the prod stage). UserParameters:
 * `{"stackName":"NotesStack-prod","region":"eu-west-1","maxAgeMinutes":15}`. Reports the job once.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { jobOf, parseJsonParameters, runJob } from '../../lib/release/job';
import { checkBackups, parseBackupCheckParameters } from './check';

const codepipeline = new CodePipelineClient({});

export async function handler(event: unknown): Promise<void> {
  const job = jobOf(event);
  if (!job) throw new Error('backup-check: not a CodePipeline job event');
  await runJob(codepipeline, job.id, async () => {
    const params = parseBackupCheckParameters(parseJsonParameters(job.userParameters, 'backups validated'));
    const clients = {
      cloudformation: new CloudFormationClient({ region: params.region }),
      dynamodb: new DynamoDBClient({ region: params.region }),
    };
    return checkBackups(clients, params, new Date());
  });
}
