/**
 * What every command gets: settings, output, and AWS clients created on first use (so `--help`
 * and usage errors never touch credentials or the network).
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { assumedRoleCredentials, type AwsCredentialIdentityProvider } from '../release/assumed-credentials';
import { ReleaseLedger } from '../release/ledger';
import { CliError, EXIT, ErrorContext, toCliError } from './errors';
import { Io } from './io';
import { LEDGER_OUTPUT, PIPELINE_STACK, Settings } from './settings';

/** Replaceable parts, for tests (real clients are made otherwise). */
export interface CliDeps {
  codepipeline?: CodePipelineClient;
  sts?: STSClient;
  cloudformation?: (region: string) => CloudFormationClient;
  documentClient?: DynamoDBDocumentClient;
  s3?: S3Client;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => Date;
}

export class Context {
  private cp?: CodePipelineClient;
  private stsClient?: STSClient;
  private s3Client?: S3Client;
  private cfn = new Map<string, CloudFormationClient>();
  private lambdaClients = new Map<string, LambdaClient>();
  private prodCreds?: { credentials?: AwsCredentialIdentityProvider };
  private prodCfn?: CloudFormationClient;
  private prodLambdaClient?: LambdaClient;
  private ledgerPromise?: Promise<{ ledger: ReleaseLedger; tableName: string }>;

  constructor(
    readonly settings: Settings,
    readonly io: Io,
    readonly json: boolean,
    private readonly deps: CliDeps = {},
  ) {}

  get codepipeline(): CodePipelineClient {
    return (this.cp ??= this.deps.codepipeline ?? new CodePipelineClient({ region: this.settings.region }));
  }

  get sts(): STSClient {
    return (this.stsClient ??= this.deps.sts ?? new STSClient({ region: this.settings.region }));
  }

  get s3(): S3Client {
    return (this.s3Client ??= this.deps.s3 ?? new S3Client({ region: this.settings.region }));
  }

  cloudformation(region: string): CloudFormationClient {
    if (this.deps.cloudformation) return this.deps.cloudformation(region);
    let client = this.cfn.get(region);
    if (!client) this.cfn.set(region, (client = new CloudFormationClient({ region })));
    return client;
  }

  lambda(region: string): LambdaClient {
    let client = this.lambdaClients.get(region);
    if (!client) this.lambdaClients.set(region, (client = new LambdaClient({ region })));
    return client;
  }

  /** Credentials for reading prod: its read-only release role when prod is in another account, else the caller's own. */
  private prodCredentials(): { credentials?: AwsCredentialIdentityProvider } {
    const roleArn = this.settings.prod.readerRoleArn;
    if (!roleArn) return {};
    return (this.prodCreds ??= { credentials: assumedRoleCredentials(roleArn, 'notes-release-cli', { sts: this.sts }) });
  }

  /** CloudFormation in prod's account and region (the prod stack's outputs and template). */
  prodCloudformation(): CloudFormationClient {
    const { region, readerRoleArn } = this.settings.prod;
    if (this.deps.cloudformation || !readerRoleArn) return this.cloudformation(region);
    return (this.prodCfn ??= new CloudFormationClient({ region, ...this.prodCredentials() }));
  }

  /** Lambda in prod's account and region (the live alias). */
  prodLambda(): LambdaClient {
    const { region, readerRoleArn } = this.settings.prod;
    if (!readerRoleArn) return this.lambda(region);
    return (this.prodLambdaClient ??= new LambdaClient({ region, ...this.prodCredentials() }));
  }

  get fetch(): typeof fetch {
    return this.deps.fetch ?? fetch;
  }

  sleep(ms: number): Promise<void> {
    return this.deps.sleep ? this.deps.sleep(ms) : new Promise((r) => setTimeout(r, ms));
  }

  now(): Date {
    return this.deps.now ? this.deps.now() : new Date();
  }

  /** Runs an AWS call, turning its error into a CliError that names what was being done. */
  async call<T>(context: ErrorContext, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toCliError(err, { region: this.settings.region, ...context });
    }
  }

  /** The caller's ARN (also proves there are working credentials). */
  async callerArn(): Promise<string> {
    const out = await this.call({ resource: 'STS GetCallerIdentity' }, () => this.sts.send(new GetCallerIdentityCommand({})));
    return out.Arn ?? 'unknown';
  }

  /** The release ledger: table from --ledger-table / NOTES_LEDGER_TABLE, else the NotesPipeline stack output. */
  ledger(): Promise<{ ledger: ReleaseLedger; tableName: string }> {
    return (this.ledgerPromise ??= this.openLedger());
  }

  private async openLedger(): Promise<{ ledger: ReleaseLedger; tableName: string }> {
    const tableName = this.settings.ledgerTable ?? (await this.discoverLedgerTable());
    const documentClient =
      this.deps.documentClient ?? DynamoDBDocumentClient.from(new DynamoDBClient({ region: this.settings.region }), { marshallOptions: { removeUndefinedValues: true } });
    return { ledger: new ReleaseLedger(documentClient, tableName), tableName };
  }

  private async discoverLedgerTable(): Promise<string> {
    const out = await this.call({ resource: `stack ${PIPELINE_STACK}` }, () =>
      this.cloudformation(this.settings.region).send(new DescribeStacksCommand({ StackName: PIPELINE_STACK })),
    ).catch((err: CliError) => {
      if (err.exitCode === EXIT.AUTH) throw err;
      throw new CliError(
        EXIT.NOT_FOUND,
        `The release ledger table is unknown: could not read stack ${PIPELINE_STACK} in ${this.settings.region} (${err.message})`,
        'Pass --ledger-table <name> or set NOTES_LEDGER_TABLE (the NotesPipeline stack output LedgerTableName).',
      );
    });
    const value = out.Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === LEDGER_OUTPUT)?.OutputValue;
    if (!value) {
      throw new CliError(
        EXIT.NOT_FOUND,
        `The release ledger table is unknown: stack ${PIPELINE_STACK} has no ${LEDGER_OUTPUT} output.`,
        'Pass --ledger-table <name> or set NOTES_LEDGER_TABLE.',
      );
    }
    return value;
  }

  /** Ledger reads, with ledger-specific error context. */
  async withLedger<T>(fn: (ledger: ReleaseLedger) => Promise<T>): Promise<T> {
    const { ledger, tableName } = await this.ledger();
    return this.call({ resource: `release ledger table ${tableName}` }, () => fn(ledger));
  }

  /** Prints a JSON document (with --json) or text lines. */
  print(json: unknown, text: () => string[]): void {
    if (this.json) this.io.out(JSON.stringify(json, null, 2));
    else for (const line of text()) this.io.out(line);
  }
}
