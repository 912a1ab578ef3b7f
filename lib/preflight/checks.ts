/**
 * The preflight checks: what a first `npx cdk deploy NotesPipeline` and the first release need
 * from each account and region. Each check returns ok, warn or fail, and for a problem the exact
 * commands that fix it (naming the notes execution policy of lib/baseline-stack.ts where a bootstrap
 * should use it). Checks only read (DescribeStacks, GetAccount, GetConnection,
 * DescribeSecret); the git token's value is never read.
 */
import { CloudFormationClient, DescribeStacksCommand, Stack } from '@aws-sdk/client-cloudformation';
import { APIGatewayClient, GetAccountCommand } from '@aws-sdk/client-api-gateway';
import { CodeStarConnectionsClient, GetConnectionCommand } from '@aws-sdk/client-codestar-connections';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AppConfig } from '../config';
import { EXIT, toCliError } from '../cli/errors';
import { AppRequirements, DEFAULT_TOOLKIT_STACK, Target } from './requirements';
import { executionPolicyName, policyArn } from '../target-account';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  /** `aws://<account>/<region>`, or `cdk.json` for checks of the configuration alone. */
  target: string;
  check: string;
  status: CheckStatus;
  detail: string;
  /** Commands or steps that fix it (problems only). */
  fix?: string[];
  /** The check could not be made: the credentials may not make this call. */
  accessDenied?: boolean;
}

/** AWS clients by region (real ones unless a test passes its own). */
export interface Clients {
  cloudformation(region: string): CloudFormationClient;
  apigateway(region: string): APIGatewayClient;
  connections(region: string): CodeStarConnectionsClient;
  secrets(region: string): SecretsManagerClient;
}

export function realClients(): Clients {
  const cache = new Map<string, unknown>();
  const get = <T>(kind: string, region: string, make: () => T): T => {
    const key = `${kind}/${region}`;
    if (!cache.has(key)) cache.set(key, make());
    return cache.get(key) as T;
  };
  return {
    cloudformation: (region) => get('cfn', region, () => new CloudFormationClient({ region })),
    apigateway: (region) => get('apigw', region, () => new APIGatewayClient({ region })),
    connections: (region) => get('conn', region, () => new CodeStarConnectionsClient({ region })),
    secrets: (region) => get('sm', region, () => new SecretsManagerClient({ region })),
  };
}

export const ADMINISTRATOR_ACCESS = 'arn:aws:iam::aws:policy/AdministratorAccess';
/** The role name the printed API Gateway fix creates. */
export const APIGATEWAY_LOGS_ROLE = 'APIGatewayCloudWatchLogs';
/** Reserved example domains (RFC 2606): the placeholders cdk.json ships with. */
const PLACEHOLDER_DOMAIN = /@(.+\.)?example\.(com|org|net)$/i;

export const targetLabel = (account: string, region: string) => `aws://${account}/${region}`;

const awsName = (err: unknown) => (err as Error)?.name ?? '';
const isMissingStack = (err: unknown) => awsName(err) === 'ValidationError' && /does not exist/i.test((err as Error).message);

/** Turns a call that could not be made into a failed check (access denied is marked for exit code 5). */
function unchecked(target: string, check: string, call: string, err: unknown): CheckResult {
  const e = toCliError(err);
  const denied = e.exitCode === EXIT.AUTH;
  return {
    target,
    check,
    status: 'fail',
    detail: denied ? `could not check: ${call} was refused (${(err as Error).message})` : `could not check: ${call} failed: ${(err as Error).message}`,
    fix: denied ? [`Run preflight with credentials that may call ${call} (the deployer's administrator credentials).`] : [`Run preflight again; if it persists, check ${call} in the console.`],
    ...(denied ? { accessDenied: true } : {}),
  };
}

async function describeStack(cfn: CloudFormationClient, stackName: string): Promise<Stack | undefined> {
  try {
    return (await cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
  } catch (err) {
    if (isMissingStack(err)) return undefined;
    throw err;
  }
}

// --- Account -----------------------------------------------------------------------------------

export function checkAccount(target: Target, callerAccount: string): CheckResult {
  const label = targetLabel(target.account ?? callerAccount, target.region);
  if (!target.account) {
    return { target: label, check: 'account', status: 'ok', detail: `${target.stacks.join(', ')} deploy to the credentials' account ${callerAccount} (cdk.json names no account)` };
  }
  if (target.account === callerAccount) {
    return { target: label, check: 'account', status: 'ok', detail: `the credentials are for account ${callerAccount}, as cdk.json says for ${target.stacks.join(', ')}` };
  }
  return {
    target: label,
    check: 'account',
    status: 'fail',
    detail: `cdk.json deploys ${target.stacks.join(', ')} to account ${target.account}, but the credentials are for account ${callerAccount}; the other checks of this target were skipped`,
    fix: [
      `Sign in to account ${target.account} (e.g. \`aws sso login --profile <profile>\`, \`export AWS_PROFILE=<profile>\`) and run \`npm run preflight -- --account ${target.account}\`,`,
      'or correct the account in cdk.json (context.notes).',
    ],
  };
}

// --- Bootstrap ---------------------------------------------------------------------------------

function bootstrapCommand(req: AppRequirements, target: Target, account: string, extra: string[] = []): string {
  const flags = [
    ...(target.qualifier !== 'hnb659fds' ? [`--qualifier ${target.qualifier}`] : []),
    ...(req.toolkitStackName !== DEFAULT_TOOLKIT_STACK ? [`--toolkit-stack-name ${req.toolkitStackName}`] : []),
    ...extra,
  ];
  return `npx cdk bootstrap aws://${account}/${target.region}${flags.length ? ` ${flags.join(' ')}` : ''}`;
}

const param = (stack: Stack, key: string) => stack.Parameters?.find((p) => p.ParameterKey === key)?.ParameterValue;
const output = (stack: Stack, key: string) => stack.Outputs?.find((o) => o.OutputKey === key)?.OutputValue;
const list = (value: string | undefined) => (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const USABLE = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE', 'IMPORT_COMPLETE', 'IMPORT_ROLLBACK_COMPLETE']);

/** The account that deploys into `target` (the pipeline's), when it is another account. */
function trustingAccount(config: AppConfig, account: string): string | undefined {
  const pipelineAccount = config.pipeline.account;
  return pipelineAccount && pipelineAccount !== account ? pipelineAccount : undefined;
}

/** The least-privilege execution policy the target's baseline stack creates (lib/baseline-stack.ts): its parts' ARNs, comma-separated. */
export function executionPolicyArnOf(req: AppRequirements, target: Target, account: string): string {
  const names = target.executionPolicyNames ?? [executionPolicyName(req.config.service, target.region)];
  return names.map((n) => policyArn(account, n)).join(',');
}

/** The policies a bootstrap of this target should name: the notes execution policy where only NotesStacks deploy. */
function executionPolicyFor(req: AppRequirements, target: Target, account: string): string {
  return target.hostsEnvironments && !target.hostsPipeline ? executionPolicyArnOf(req, target, account) : ADMINISTRATOR_ACCESS;
}

/** Where a bootstrap command names the notes execution policy, the baseline stack that creates it must be deployed first. */
function baselineFirst(req: AppRequirements, target: Target, account: string, flags: string[]): string[] {
  const expected = executionPolicyArnOf(req, target, account);
  if (!flags.some((f) => f.includes(expected))) return [];
  return [`npx cdk deploy ${target.baselineStack ?? 'the NotesBaseline stack of this account'}   # first, once, with administrator credentials of account ${account}: creates ${expected}`];
}

export async function checkBootstrap(clients: Clients, req: AppRequirements, target: Target, account: string): Promise<CheckResult[]> {
  const label = targetLabel(account, target.region);
  const name = req.toolkitStackName;
  const trusted = trustingAccount(req.config, account);
  const trustFlags = trusted ? [`--trust ${trusted}`, `--trust-for-lookup ${trusted}`, `--cloudformation-execution-policies ${executionPolicyFor(req, target, account)}`] : [];
  let stack: Stack | undefined;
  try {
    stack = await describeStack(clients.cloudformation(target.region), name);
  } catch (err) {
    return [unchecked(label, 'bootstrap', `cloudformation:DescribeStacks on ${name}`, err)];
  }
  if (!stack) {
    return [
      {
        target: label,
        check: 'bootstrap',
        status: 'fail',
        detail: `the CDK bootstrap stack ${name} does not exist in ${target.region}`,
        fix: [...baselineFirst(req, target, account, trustFlags), bootstrapCommand(req, target, account, trustFlags)],
      },
    ];
  }
  const status = stack.StackStatus ?? 'UNKNOWN';
  if (!USABLE.has(status)) {
    return [
      {
        target: label,
        check: 'bootstrap',
        status: 'fail',
        detail: `the CDK bootstrap stack ${name} is ${status}`,
        fix: status.endsWith('_IN_PROGRESS')
          ? [`Wait for it: aws cloudformation wait stack-update-complete --stack-name ${name} --region ${target.region} (or stack-create-complete), then run preflight again.`]
          : [`aws cloudformation describe-stack-events --stack-name ${name} --region ${target.region}   # why it failed`, bootstrapCommand(req, target, account, trustFlags)],
      },
    ];
  }
  const results: CheckResult[] = [];
  const qualifier = param(stack, 'Qualifier') ?? 'hnb659fds';
  results.push(
    qualifier === target.qualifier
      ? { target: label, check: 'bootstrap qualifier', status: 'ok', detail: `${name} uses qualifier ${qualifier}, as the app synthesizes` }
      : {
          target: label,
          check: 'bootstrap qualifier',
          status: 'fail',
          detail: `${name} was bootstrapped with qualifier ${qualifier}, but the app synthesizes ${target.qualifier}: every deploy role and asset bucket name would miss`,
          fix: [
            `Either set "@aws-cdk/core:bootstrapQualifier": "${qualifier}" in cdk.json context (use the existing bootstrap),`,
            `or bootstrap with the app's qualifier: ${bootstrapCommand(req, target, account, trustFlags)}`,
          ],
        },
  );
  const version = Number(output(stack, 'BootstrapVersion') ?? '0');
  results.push(
    version >= target.minBootstrapVersion
      ? { target: label, check: 'bootstrap version', status: 'ok', detail: `${name} is version ${version}; the assembly requires at least ${target.minBootstrapVersion}` }
      : {
          target: label,
          check: 'bootstrap version',
          status: 'fail',
          detail: `${name} is version ${version || 'unknown'}, but the assembly requires at least ${target.minBootstrapVersion}`,
          fix: [`${bootstrapCommand(req, target, account, trustFlags)}   # upgrades the bootstrap stack in place`],
        },
  );
  if (trusted) {
    const trust = list(param(stack, 'TrustedAccounts'));
    results.push(
      trust.includes(trusted)
        ? { target: label, check: 'bootstrap trust', status: 'ok', detail: `${name} trusts the pipeline account ${trusted}` }
        : {
            target: label,
            check: 'bootstrap trust',
            status: 'fail',
            detail: `${name} does not trust the pipeline account ${trusted} (trusts: ${trust.join(', ') || 'none'}), so the pipeline cannot deploy here`,
            fix: [bootstrapCommand(req, target, account, [`--trust ${[...new Set([...trust, trusted])].join(',')}`, `--trust-for-lookup ${trusted}`, `--cloudformation-execution-policies ${list(param(stack, 'CloudFormationExecutionPolicies')).join(',') || executionPolicyFor(req, target, account)}`])],
          },
    );
  }
  if (target.hostsEnvironments) results.push(executionPolicyCheck(req, target, account, list(param(stack, 'CloudFormationExecutionPolicies')), trusted));
  return results;
}

/**
 * Which policies CloudFormation deploys the NotesStacks here with. AdministratorAccess (or the
 * empty default) is a warning; so is a custom list without the notes execution policy. Where the
 * same bootstrap also deploys NotesPipeline (the single-account layout), the notes policy cannot
 * be the only one: it covers the notes stacks, not the pipeline.
 */
function executionPolicyCheck(req: AppRequirements, target: Target, account: string, policies: string[], trusted: string | undefined): CheckResult {
  const label = targetLabel(account, target.region);
  const check = 'bootstrap execution policy';
  const expected = executionPolicyArnOf(req, target, account);
  const notes = target.stacks.filter((s) => s !== 'NotesPipeline').join(', ');
  // An empty parameter means the default: AdministratorAccess.
  const admin = policies.length === 0 || policies.some((p) => p.endsWith(':iam::aws:policy/AdministratorAccess'));
  if (!admin && expected.split(',').every((p) => policies.includes(p))) return { target: label, check, status: 'ok', detail: `CloudFormation deploys ${notes} with ${policies.join(', ')}` };
  const baseline = target.baselineStack ?? 'the NotesBaseline stack of this account';
  if (target.hostsPipeline) {
    return {
      target: label,
      check,
      status: 'warn',
      detail:
        `CloudFormation deploys ${notes} with ${admin ? 'AdministratorAccess' : policies.join(', ')}: a template may create anything in account ${account}. ` +
        `In this single-account layout the same bootstrap also deploys NotesPipeline, so it cannot use the notes execution policy ${expected} alone, and the dev deploy (before the approval) uses the same bootstrap roles as prod`,
      fix: [
        `Put dev and prod in accounts of their own (cdk.json "notes:three-accounts", with "layout": "three-accounts" in cdk.json's context; docs/02-cicd.md, First deploy), deploy their baseline stacks, then bootstrap each with --cloudformation-execution-policies <the ExecutionPolicyArn output of its baseline stack: arn:aws:iam::<account>:policy/${executionPolicyName(req.config.service, target.region)} and its further parts>`,
      ],
    };
  }
  return {
    target: label,
    check,
    status: 'warn',
    detail: admin
      ? `CloudFormation deploys ${notes} with AdministratorAccess: a template may create anything in account ${account}`
      : `CloudFormation deploys ${notes} with ${policies.join(', ')}, not the notes execution policy ${expected}: what it allows is not what the simulator proves`,
    fix: [
      `npx cdk deploy ${baseline}   # first, once, with administrator credentials of account ${account}: creates ${expected}`,
      `${bootstrapCommand(req, target, account, [...(trusted ? [`--trust ${trusted}`, `--trust-for-lookup ${trusted}`] : []), `--cloudformation-execution-policies ${expected}`])}   # see docs/02-cicd.md, First deploy`,
    ],
  };
}

// --- API Gateway account role --------------------------------------------------------------------

export async function checkApiGatewayAccount(clients: Clients, target: Target, account: string): Promise<CheckResult> {
  const label = targetLabel(account, target.region);
  const check = 'API Gateway CloudWatch Logs role';
  let roleArn: string | undefined;
  try {
    roleArn = (await clients.apigateway(target.region).send(new GetAccountCommand({}))).cloudwatchRoleArn;
  } catch (err) {
    return unchecked(label, check, 'apigateway:GET /account', err);
  }
  const owner = target.apiGatewayAccountOwner;
  const managed = owner ? `${owner} declares the setting (AWS::ApiGateway::Account, its own role) from its first deploy` : '';
  if (roleArn) return { target: label, check, status: 'ok', detail: `API Gateway writes logs in ${target.region} through ${roleArn}${owner ? `; ${managed}, replacing it` : ''}` };
  if (owner) return { target: label, check, status: 'ok', detail: `not set in ${target.region} yet: ${managed}` };
  const role = `arn:aws:iam::${account}:role/${APIGATEWAY_LOGS_ROLE}`;
  return {
    target: label,
    check,
    status: 'fail',
    detail: `API Gateway has no CloudWatch Logs role in ${target.region}: the first deploy of ${target.stacks.filter((s) => s !== 'NotesPipeline').join(', ')} fails ("CloudWatch Logs role ARN must be set in account settings to enable logging")`,
    fix: [
      `aws iam create-role --role-name ${APIGATEWAY_LOGS_ROLE} --assume-role-policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"apigateway.amazonaws.com"},"Action":"sts:AssumeRole"}]}'`,
      `aws iam attach-role-policy --role-name ${APIGATEWAY_LOGS_ROLE} --policy-arn arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs`,
      `aws apigateway update-account --region ${target.region} --patch-operations op=replace,path=/cloudwatchRoleArn,value=${role}`,
    ],
  };
}

// --- Source connection and git token ----------------------------------------------------------------

/** The region of a connection ARN (`arn:aws:codeconnections:<region>:<account>:connection/<id>`). */
export function connectionRegion(arn: string, fallback: string): string {
  return arn.split(':')[3] || fallback;
}

export async function checkConnection(clients: Clients, config: AppConfig, label: string): Promise<CheckResult> {
  const arn = config.pipeline.source.connectionArn;
  const region = connectionRegion(arn, config.pipeline.region);
  const check = 'source connection';
  const consoleUrl = `https://${region}.console.aws.amazon.com/codesuite/settings/connections?region=${region}`;
  let status: string | undefined;
  try {
    status = (await clients.connections(region).send(new GetConnectionCommand({ ConnectionArn: arn }))).Connection?.ConnectionStatus;
  } catch (err) {
    if (awsName(err) !== 'ResourceNotFoundException') return unchecked(label, check, `codeconnections:GetConnection on ${arn}`, err);
    return {
      target: label,
      check,
      status: 'fail',
      detail: `the connection ${arn} (notes.pipeline.source.connectionArn) does not exist`,
      fix: [
        `aws codeconnections create-connection --provider-type GitHub --connection-name notes-github --region ${region}`,
        'Put the ConnectionArn it prints in cdk.json (notes.pipeline.source.connectionArn),',
        `then finish the handshake in the console (${consoleUrl}: choose the connection, "Update pending connection").`,
      ],
    };
  }
  if (status === 'AVAILABLE') return { target: label, check, status: 'ok', detail: `${arn} is AVAILABLE` };
  return {
    target: label,
    check,
    status: 'fail',
    detail: `the connection ${arn} is ${status ?? 'in an unknown state'}, not AVAILABLE: the pipelines' Source actions would fail`,
    fix:
      status === 'PENDING'
        ? [`Finish the handshake with GitHub in the console: ${consoleUrl} (choose the connection, "Update pending connection", install or choose the GitHub app).`]
        : [
            `aws codeconnections delete-connection --connection-arn ${arn} --region ${region}`,
            `aws codeconnections create-connection --provider-type GitHub --connection-name notes-github --region ${region}`,
            `Put the new ARN in cdk.json and finish the handshake in the console (${consoleUrl}).`,
          ],
  };
}

export async function checkGitTokenSecret(clients: Clients, config: AppConfig, label: string): Promise<CheckResult> {
  const name = config.pipeline.gitTokenSecretName;
  const region = config.pipeline.region;
  const check = 'git token secret';
  const create = `aws secretsmanager create-secret --name ${name} --region ${region} --secret-string '<token>'   # a fine-grained GitHub token: Contents read and write on the repository only`;
  try {
    const out = await clients.secrets(region).send(new DescribeSecretCommand({ SecretId: name }));
    if (out.DeletedDate) {
      return {
        target: label,
        check,
        status: 'fail',
        detail: `the secret ${name} is scheduled for deletion (${out.DeletedDate.toISOString()})`,
        fix: [`aws secretsmanager restore-secret --secret-id ${name} --region ${region}`],
      };
    }
    return { target: label, check, status: 'ok', detail: `the secret ${name} exists (its value was not read)` };
  } catch (err) {
    if (awsName(err) !== 'ResourceNotFoundException') return unchecked(label, check, `secretsmanager:DescribeSecret on ${name}`, err);
    return { target: label, check, status: 'fail', detail: `the secret ${name} (notes.pipeline.gitTokenSecretName) does not exist in ${region}: the Release stage cannot tag`, fix: [create] };
  }
}

// --- E-mail addresses (cdk.json only) -----------------------------------------------------------------

export function checkEmails(config: AppConfig): CheckResult[] {
  const lists: { key: string; emails: string[]; required: boolean }[] = [
    { key: 'notes.pipeline.approverEmails', emails: config.pipeline.approverEmails, required: true },
    { key: 'notes.pipeline.opsOwnerEmails', emails: config.pipeline.opsOwnerEmails, required: true },
    ...config.environments.map((e, i) => ({ key: `notes.environments[${i}].alarmEmails (${e.name})`, emails: e.alarmEmails, required: false })),
  ];
  return lists.map(({ key, emails, required }): CheckResult => {
    const placeholders = emails.filter((e) => PLACEHOLDER_DOMAIN.test(e));
    if (placeholders.length > 0) {
      return { target: 'cdk.json', check: 'e-mails', status: 'fail', detail: `${key} holds placeholder addresses: ${placeholders.join(', ')}`, fix: [`Put the real addresses in cdk.json, ${key}.`] };
    }
    if (required && emails.length === 0) {
      return { target: 'cdk.json', check: 'e-mails', status: 'fail', detail: `${key} is empty: nobody would be asked to approve`, fix: [`Add at least one address to cdk.json, ${key}.`] };
    }
    return { target: 'cdk.json', check: 'e-mails', status: 'ok', detail: `${key}: ${emails.length ? emails.join(', ') : 'none (no alarm e-mails)'}` };
  });
}

// --- Stuck stacks ---------------------------------------------------------------------------------

export async function checkStacks(clients: Clients, target: Target, account: string): Promise<CheckResult[]> {
  const label = targetLabel(account, target.region);
  const cfn = clients.cloudformation(target.region);
  const results: CheckResult[] = [];
  for (const name of target.stacks) {
    const check = `stack ${name}`;
    const r = ` --stack-name ${name} --region ${target.region}`;
    let stack: Stack | undefined;
    try {
      stack = await describeStack(cfn, name);
    } catch (err) {
      results.push(unchecked(label, check, `cloudformation:DescribeStacks on ${name}`, err));
      continue;
    }
    const status = stack?.StackStatus;
    if (!stack || !status) {
      results.push({ target: label, check, status: 'ok', detail: 'not created yet' });
    } else if (status === 'ROLLBACK_COMPLETE' || status === 'ROLLBACK_FAILED') {
      results.push({
        target: label,
        check,
        status: 'fail',
        detail: `${name} is ${status}: its first create failed, and a stack in that state can only be deleted (no release can deploy it)`,
        fix: [
          `aws cloudformation describe-stack-events${r} --max-items 20   # why the create failed; fix that first`,
          ...(stack.EnableTerminationProtection ? [`aws cloudformation update-termination-protection --no-enable-termination-protection${r}`] : []),
          `aws cloudformation delete-stack${r}`,
          `aws cloudformation wait stack-delete-complete${r}`,
          'Retained resources (the notes table, the user pool) stay behind, empty; delete them or keep them. The next deploy creates the stack anew.',
        ],
      });
    } else if (status === 'UPDATE_ROLLBACK_FAILED') {
      results.push({
        target: label,
        check,
        status: 'fail',
        detail: `${name} is UPDATE_ROLLBACK_FAILED: no deploy can proceed until its rollback is finished`,
        fix: [`aws cloudformation describe-stack-events${r} --max-items 20   # which resource failed to roll back`, `aws cloudformation continue-update-rollback${r}`],
      });
    } else if (status === 'DELETE_FAILED') {
      results.push({
        target: label,
        check,
        status: 'fail',
        detail: `${name} is DELETE_FAILED`,
        fix: [`aws cloudformation describe-stack-events${r} --max-items 20   # which resource failed to delete`, `aws cloudformation delete-stack${r}`],
      });
    } else if (status.endsWith('_IN_PROGRESS')) {
      results.push({ target: label, check, status: 'warn', detail: `${name} is ${status}; deploy after it ends`, fix: [`aws cloudformation describe-stacks${r} --query 'Stacks[0].StackStatus'`] });
    } else {
      results.push({ target: label, check, status: 'ok', detail: status });
    }
  }
  return results;
}
