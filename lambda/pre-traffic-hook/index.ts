/**
 * Entry point of the pre-traffic hook (`hook.ts`), deployed by NotesStack as
 * `notes-<env>-pre-traffic-hook` and named in the live alias's CodeDeploy update policy.
 * Environment: NOTES_FUNCTION_NAME, NOTES_FUNCTION_VERSION (the version under test), EXPECTED_VERSION,
 * SMOKE_SECRET_ARN. Clients are made once per container.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { configFromEnv, createPreTrafficHook, type HookEvent, type HookResult } from './hook';

const logger = new Logger({ serviceName: 'notes-pre-traffic-hook' });

const hook = createPreTrafficHook({
  lambda: new LambdaClient({}),
  codeDeploy: new CodeDeployClient({}),
  secrets: new SecretsManagerClient({}),
  config: () => configFromEnv(process.env),
  log: (level, message, fields) => logger[level](message, fields ?? {}),
});

/** Never throws: a thrown error would make Lambda retry, and the hook would report a second time. */
export const handler = async (event: HookEvent, context: Context): Promise<Omit<HookResult, 'report'>> => {
  const { report, ...result } = await hook(event, context);
  if (report) logger.info('pre-traffic checks', { summary: report.summary });
  return result;
};
