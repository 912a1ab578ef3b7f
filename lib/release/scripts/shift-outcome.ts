/**
 * After `cdk deploy`, finds the CodeDeploy deployment that moved the stack's live alias (#13) and
 * exports its id and outcome, so the pipeline records them (CodePipeline keeps the deploy action's
 * variables; the release recorder reads them into the ledger and the release notes).
 *
 *   node bin/shift-outcome.js --outputs .pipeline/outputs.json --stack NotesStack-prod \
 *     --since <epoch seconds before the deploy> --region eu-west-1 [--role-arn <CDK lookup role>] --out .pipeline/shift.env
 *
 * The deployment is the newest one of the stack's deployment group (outputs CodeDeployApplicationName
 * and DeploymentGroupName) created since the deploy began. None: the alias did not move (the
 * function did not change) and the outcome is NONE. The deploy has already happened when this runs,
 * so it never fails the step: a lookup that goes wrong exports UNKNOWN with the reason on stderr.
 * Exit code 2 on usage only.
 */
import { CodeDeployClient, GetDeploymentCommand, ListDeploymentsCommand } from '@aws-sdk/client-codedeploy';
import { assumedRoleCredentials } from '../assumed-credentials';
import { mkdirSync, readFileSync, writeFileSync } from 'fs';
import { dirname } from 'path';
import { exportLines } from './release-version';
import { runAsScript } from './run-as-script';

export interface ShiftOutcome {
  /** `d-XXXXXXXXX`, or `none`. */
  deploymentId: string;
  /** CodeDeploy's status (Succeeded, Failed, Stopped, ...), `NONE` (the alias did not move) or `UNKNOWN`. */
  outcome: string;
  detail?: string;
}

export interface ShiftTarget {
  applicationName: string;
  deploymentGroupName: string;
  since: Date;
}

/** The newest deployment of the group created since `since`, with its status. */
export async function findShift(client: Pick<CodeDeployClient, 'send'>, target: ShiftTarget): Promise<ShiftOutcome> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(
      new ListDeploymentsCommand({
        applicationName: target.applicationName,
        deploymentGroupName: target.deploymentGroupName,
        createTimeRange: { start: target.since },
        nextToken,
      }),
    );
    ids.push(...(page.deployments ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  if (ids.length === 0) return { deploymentId: 'none', outcome: 'NONE', detail: 'no CodeDeploy deployment: the live alias did not move' };
  const infos = await Promise.all(ids.map((deploymentId) => client.send(new GetDeploymentCommand({ deploymentId })).then((o) => o.deploymentInfo)));
  const newest = infos
    .filter((i): i is NonNullable<typeof i> => i !== undefined)
    .sort((a, b) => (b.createTime?.getTime() ?? 0) - (a.createTime?.getTime() ?? 0))[0];
  if (!newest?.deploymentId) return { deploymentId: ids[0], outcome: 'UNKNOWN', detail: 'GetDeployment returned nothing' };
  const rolledBack = newest.rollbackInfo?.rollbackDeploymentId ? `, rolled back by ${newest.rollbackInfo.rollbackDeploymentId}` : '';
  return {
    deploymentId: newest.deploymentId,
    outcome: newest.status ?? 'UNKNOWN',
    detail: `${newest.deploymentConfigName ?? 'unknown configuration'}${rolledBack}`,
  };
}

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

export interface ShiftOutcomeDeps {
  codeDeploy?: (region: string, roleArn: string | undefined) => Promise<Pick<CodeDeployClient, 'send'>>;
}

async function defaultClient(region: string, roleArn: string | undefined): Promise<CodeDeployClient> {
  return new CodeDeployClient({ region, ...(roleArn ? { credentials: assumedRoleCredentials(roleArn, 'notes-shift-outcome', { region }) } : {}) });
}

export async function main(argv: string[], deps: ShiftOutcomeDeps = {}): Promise<number> {
  const file = arg(argv, 'outputs');
  const stack = arg(argv, 'stack');
  const since = Number(arg(argv, 'since'));
  const region = arg(argv, 'region');
  const out = arg(argv, 'out') ?? '.pipeline/shift.env';
  if (!file || !stack || !region || !Number.isFinite(since) || since <= 0) {
    console.error('usage: shift-outcome --outputs FILE --stack NAME --since EPOCH_SECONDS --region REGION [--role-arn ARN] [--out FILE]');
    return 2;
  }
  let result: ShiftOutcome;
  try {
    const outputs = (JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, string> | undefined>)[stack] ?? {};
    const applicationName = outputs.CodeDeployApplicationName;
    const deploymentGroupName = outputs.DeploymentGroupName;
    if (!applicationName || !deploymentGroupName) {
      result = { deploymentId: 'none', outcome: 'NONE', detail: `${stack} has no deployment group (an assembly from before traffic shifting)` };
    } else {
      const client = await (deps.codeDeploy ?? defaultClient)(region, arg(argv, 'role-arn'));
      // A minute of slack for clock skew between this build host and CodeDeploy.
      result = await findShift(client, { applicationName, deploymentGroupName, since: new Date((since - 60) * 1000) });
    }
  } catch (err) {
    result = { deploymentId: 'none', outcome: 'UNKNOWN', detail: `could not read the CodeDeploy deployment: ${(err as Error).message}` };
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, exportLines({ CODEDEPLOY_DEPLOYMENT_ID: result.deploymentId, CODEDEPLOY_OUTCOME: result.outcome }));
  console.error(`shift outcome: ${stack}: ${result.deploymentId} ${result.outcome}${result.detail ? ` (${result.detail})` : ''}`);
  return 0;
}

runAsScript(module, 'shift-outcome', main);
