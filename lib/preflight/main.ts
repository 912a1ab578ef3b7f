/**
 * `npm run preflight`: the first command a deployer runs after filling in cdk.json, before
 * `npx cdk deploy NotesPipeline`. For every account and region the app deploys to it checks what
 * the first deploy and the first release need, and prints ok or the problem with its fix. Exit codes
 * as the release CLI: 0 every check passed (warnings allowed), 1 a check failed, 2 usage or an
 * invalid cdk.json, 5 no usable credentials (or a check was refused).
 */
import { join } from 'path';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { AppConfig, ConfigError, configFromContext } from '../config';
import { errorReporter, EXIT, strictFlags, toCliError, usage } from '../cli/errors';
import { Io } from '../cli/io';
import {
  CheckResult,
  checkAccount,
  checkApiGatewayAccount,
  checkBootstrap,
  checkConnection,
  checkEmails,
  checkGitTokenSecret,
  checkStacks,
  Clients,
  realClients,
  targetLabel,
} from './checks';
import { AppRequirements, appRequirements, readCdkJson } from './requirements';

export const PREFLIGHT_HELP = `Usage: npm run preflight -- [options]

Checks, before the first \`npx cdk deploy NotesPipeline\`, every account and region cdk.json names
(the environments and the pipeline):
  account                     the credentials' account is the one cdk.json names
  bootstrap                   the CDK bootstrap stack exists, uses the qualifier the app synthesizes,
                              is at least the version the cloud assembly requires, trusts the
                              pipeline account (multi-account), and warns while CloudFormation
                              deploys the notes stacks with AdministratorAccess
  API Gateway logs role       the account setting API Gateway needs for access logs
  source connection           the CodeConnections connection exists and is AVAILABLE (not PENDING)
  git token secret            the secret exists (DescribeSecret; its value is never read)
  e-mails                     approver and ops owner addresses are set, and no example.com placeholder
  stacks                      no NotesStack or NotesPipeline stuck in ROLLBACK_COMPLETE (or another
                              state no deploy can leave)
Each line says ok, warn or FAIL; a problem comes with the exact commands that fix it. It only reads.

Options:
  --region REGION             check only the targets in this region
  --account ID                check only the targets in this account (run once per account in a
                              multi-account layout, with that account's credentials)
  --toolkit-stack-name NAME   the bootstrap stack's name (default: cdk.json toolkitStackName, else CDKToolkit)
  --json                      machine-readable output on stdout (errors too)
  -h, --help                  this help (works offline, no credentials needed)

Exit codes: 0 every check passed (warnings allowed), 1 a check failed, 2 usage or invalid cdk.json,
            5 no usable credentials, or the credentials may not make a check's call.
See docs/02-cicd.md, "First deploy".`;

export interface PreflightDeps {
  clients?: Clients;
  sts?: STSClient;
  /** Default: synthesize the app from cdk.json. */
  requirements?: () => AppRequirements;
  cdkJsonPath?: string;
}

export interface PreflightReport {
  ok: boolean;
  callerAccount: string;
  callerArn: string;
  checks: CheckResult[];
}

const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

export async function runPreflight(argv: string[], io: Io, deps: PreflightDeps = {}): Promise<number> {
  const json = argv.includes('--json');
  const report = errorReporter(io, json);
  try {
    const values = strictFlags(argv, {
        region: { type: 'string' },
        account: { type: 'string' },
        'toolkit-stack-name': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      });
    if (values.help) {
      io.out(PREFLIGHT_HELP);
      return EXIT.OK;
    }
    const region = typeof values.region === 'string' ? values.region : undefined;
    const account = typeof values.account === 'string' ? values.account : undefined;
    if (region !== undefined && !REGION.test(region)) throw usage(`--region "${region}" is not an AWS region such as eu-west-1.`);
    if (account !== undefined && !ACCOUNT.test(account)) throw usage(`--account "${account}" is not a 12-digit AWS account id.`);

    // Progress goes to stderr, so stdout holds only the report.
    const progress = (line: string) => io.err(line);
    const cdkJson = deps.requirements ? undefined : readCdkJson(deps.cdkJsonPath ?? join(__dirname, '..', '..', 'cdk.json'));
    const toolkitStackName = typeof values['toolkit-stack-name'] === 'string' ? values['toolkit-stack-name'] : undefined;
    const configError = (err: unknown) => {
      if (err instanceof ConfigError) throw usage(err.message, 'Fix cdk.json (docs/02-cicd.md, "Context keys").');
      throw err;
    };

    // Credentials first (cheap, and the usual first problem), then the synth.
    let config: AppConfig;
    try {
      config = cdkJson ? configFromContext(cdkJson.context) : deps.requirements!().config;
    } catch (err) {
      configError(err);
      throw err;
    }
    const named = [...config.environments, config.pipeline].map((t) => ({ account: t.account, region: t.region }));
    const selected = (t: { account?: string; region: string }) => (!region || t.region === region) && (!account || t.account === account);
    if (!named.some(selected)) {
      throw usage(
        `cdk.json names no target${region ? ` in region ${region}` : ''}${account ? ` in account ${account}` : ''}.`,
        `Targets: ${[...new Set(named.map((t) => `${t.account ?? '<credentials>'}/${t.region}`))].join(', ')}.`,
      );
    }
    const pipelineRegion = config.pipeline.region;
    const sts = deps.sts ?? new STSClient({ region: pipelineRegion });
    const identity = await sts.send(new GetCallerIdentityCommand({})).catch((err: unknown) => {
      throw toCliError(err, { resource: 'STS GetCallerIdentity', region: pipelineRegion });
    });
    const callerAccount = identity.Account ?? '';

    let req: AppRequirements;
    try {
      if (cdkJson) progress('synthesizing the app (no bundling) to learn what each account needs ...');
      req = cdkJson ? appRequirements(cdkJson, toolkitStackName) : deps.requirements!();
    } catch (err) {
      configError(err);
      throw err;
    }
    const targets = req.targets.filter(selected);
    const clients = deps.clients ?? realClients();

    const checks: CheckResult[] = [...checkEmails(req.config)];
    for (const target of targets) {
      const resolved = target.account ?? callerAccount;
      progress(`checking ${targetLabel(resolved, target.region)} ...`);
      const accountCheck = checkAccount(target, callerAccount);
      checks.push(accountCheck);
      if (accountCheck.status === 'fail') continue;
      checks.push(...(await checkBootstrap(clients, req, target, resolved)));
      if (target.hostsEnvironments) checks.push(await checkApiGatewayAccount(clients, target, resolved));
      if (target.hostsPipeline) {
        const label = targetLabel(resolved, target.region);
        checks.push(await checkConnection(clients, req.config, label));
        checks.push(await checkGitTokenSecret(clients, req.config, label));
      }
      checks.push(...(await checkStacks(clients, target, resolved)));
    }

    const failed = checks.filter((c) => c.status === 'fail');
    const result: PreflightReport = { ok: failed.length === 0, callerAccount, callerArn: identity.Arn ?? '', checks };
    if (json) io.out(JSON.stringify(result, null, 2));
    else printText(io, result);
    if (failed.some((c) => c.accessDenied)) return EXIT.AUTH;
    return failed.length > 0 ? EXIT.FAILED : EXIT.OK;
  } catch (err) {
    return report(toCliError(err));
  }
}

function printText(io: Io, r: PreflightReport): void {
  io.out(`Preflight as ${r.callerArn} (account ${r.callerAccount})`);
  let target = '';
  for (const c of r.checks) {
    if (c.target !== target) {
      target = c.target;
      io.out('');
      io.out(target);
    }
    const mark = c.status === 'ok' ? 'ok  ' : c.status === 'warn' ? 'warn' : 'FAIL';
    io.out(`  ${mark}  ${c.check}: ${c.detail}`);
    for (const step of c.fix ?? []) io.out(`          fix: ${step}`);
  }
  const failed = r.checks.filter((c) => c.status === 'fail').length;
  const warned = r.checks.filter((c) => c.status === 'warn').length;
  io.out('');
  io.out(
    failed === 0
      ? `Ready: ${r.checks.length} checks passed${warned ? `, ${warned} with a warning` : ''}. Next: npx cdk deploy NotesPipeline`
      : `Not ready: ${failed} of ${r.checks.length} checks failed${warned ? `, ${warned} warned` : ''}. Fix them and run npm run preflight again.`,
  );
}
