/**
 * Where the CLI looks: region, pipeline names, prod stage, ledger table. Each comes from a flag,
 * else an environment variable, else a default derived from `cdk.json` (the same configuration the
 * pipelines are synthesized from), else a built-in default.
 */
import { existsSync, readFileSync } from 'fs';
import { join } from 'path';
import { AppConfig, configFromContext, notesStackName, productionEnvironment } from '../config';
import { isCrossAccount, readerRoleName, roleArn } from '../target-account';
import { ROLLBACK_PIPELINE_NAME } from '../release/rollback-execution';

/** Names as lib/pipeline/pipeline-stack.ts gives them (a test keeps them equal). */
export const DEFAULT_PIPELINES = { release: 'notes-release', hotfix: 'notes-hotfix', rollback: ROLLBACK_PIPELINE_NAME } as const;
export const PIPELINE_STACK = 'NotesPipeline';
export { LEDGER_OUTPUT } from '../release/ledger';

export interface Settings {
  region: string;
  pipelines: { release: string; hotfix: string; rollback: string };
  /** The release pipeline's production stage (promotions into it are paused by a rollback). */
  prodStage: string;
  /**
   * The production environment. `readerRoleArn`: prod is in another account than the pipeline, so
   * its stack and live alias are read as prod's read-only release role (docs/02-cicd.md).
   */
  prod: { name: string; stackName: string; region: string; readerRoleArn?: string };
  /** Undefined: discover from the NotesPipeline stack output. */
  ledgerTable?: string;
  /** Overrides the prod /health URL (else from NotesStack-<prod>'s ApiUrl output). */
  healthUrl?: string;
}

export interface GlobalFlags {
  region?: string;
  'release-pipeline'?: string;
  'hotfix-pipeline'?: string;
  'rollback-pipeline'?: string;
  'prod-stage'?: string;
  'ledger-table'?: string;
  'health-url'?: string;
}

/** A pipeline stage name for an environment, as the release pipeline names it (`prod` -> `Prod`). */
export function stageNameOf(envName: string): string {
  return envName
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** Reads the `notes` configuration from cdk.json, or undefined when there is none (CLI installed elsewhere). */
export function repoConfig(cdkJsonPath = join(__dirname, '..', '..', 'cdk.json')): AppConfig | undefined {
  if (!existsSync(cdkJsonPath)) return undefined;
  const cdkJson = JSON.parse(readFileSync(cdkJsonPath, 'utf8')) as { context?: Record<string, unknown> };
  return configFromContext(cdkJson.context);
}

export function resolveSettings(flags: GlobalFlags, env: NodeJS.ProcessEnv, config: AppConfig | undefined): Settings {
  const prodEnv = config ? productionEnvironment(config) : undefined;
  const region = flags.region ?? env.NOTES_REGION ?? config?.pipeline.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'eu-west-1';
  const prodName = prodEnv?.name ?? 'prod';
  return {
    region,
    pipelines: {
      release: flags['release-pipeline'] ?? env.NOTES_RELEASE_PIPELINE ?? DEFAULT_PIPELINES.release,
      hotfix: flags['hotfix-pipeline'] ?? env.NOTES_HOTFIX_PIPELINE ?? DEFAULT_PIPELINES.hotfix,
      rollback: flags['rollback-pipeline'] ?? env.NOTES_ROLLBACK_PIPELINE ?? DEFAULT_PIPELINES.rollback,
    },
    prodStage: flags['prod-stage'] ?? env.NOTES_PROD_STAGE ?? stageNameOf(prodName),
    prod: {
      name: prodName,
      stackName: notesStackName({ name: prodName }),
      region: prodEnv?.region ?? region,
      ...(prodEnv && config && isCrossAccount(prodEnv, config.pipeline.account)
        ? { readerRoleArn: roleArn(prodEnv.account!, readerRoleName(config.service, prodEnv.region)) }
        : {}),
    },
    ledgerTable: flags['ledger-table'] ?? env.NOTES_LEDGER_TABLE,
    healthUrl: flags['health-url'] ?? env.NOTES_HEALTH_URL,
  };
}
