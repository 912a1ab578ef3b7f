/**
 * Harness for the operator CLI tests: CodePipeline, STS and CloudFormation are mocked (the AWS
 * control plane cannot run here); the release ledger is real, on dynalite over loopback HTTP.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { Io } from '../../lib/cli/io';
import { runCli, RunOptions } from '../../lib/cli/main';
import { RunningDynalite } from '../support/dynalite';
import { repoConfig } from '../infra/fixture';

export const pipeline = mockClient(CodePipelineClient);
export const sts = mockClient(STSClient);
export const cloudformation = mockClient(CloudFormationClient);
export const lambda = mockClient(LambdaClient);
export const s3 = mockClient(S3Client);
export const OPERATOR = 'arn:aws:sts::123456789012:assumed-role/release-operator/carol';

export interface Captured extends Io {
  stdout: string[];
  stderr: string[];
  questions: string[];
}

export function captureIo(options: { interactive?: boolean; answers?: string[] } = {}): Captured {
  const answers = [...(options.answers ?? [])];
  const io: Captured = {
    stdout: [],
    stderr: [],
    questions: [],
    interactive: options.interactive ?? false,
    out: (line) => io.stdout.push(line),
    err: (line) => io.stderr.push(line),
    ask: async (q) => {
      io.questions.push(q);
      return answers.shift() ?? '';
    },
  };
  return io;
}

export function resetMocks(): void {
  pipeline.reset();
  sts.reset();
  cloudformation.reset();
  lambda.reset();
  s3.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Arn: OPERATOR, Account: '123456789012', UserId: 'AROAEXAMPLE:carol' });
}

export interface CliRun {
  code: number;
  io: Captured;
  stdout: string;
  stderr: string;
  sleeps: number[];
}

/** Runs the CLI with the repository's configuration, the ledger on dynalite, and no real waiting. */
export async function cli(argv: string[], db: RunningDynalite, ledgerTable: string | undefined, options: { io?: Captured; env?: NodeJS.ProcessEnv } & Partial<RunOptions> = {}): Promise<CliRun> {
  const { io: given, env, ...overrides } = options;
  const io = given ?? captureIo();
  const sleeps: number[] = [];
  const code = await runCli(argv, io, {
    config: repoConfig(),
    env: { ...(ledgerTable ? { NOTES_LEDGER_TABLE: ledgerTable } : {}), ...env },
    documentClient: db.documentClient,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...overrides,
  });
  return { code, io, stdout: io.stdout.join('\n'), stderr: io.stderr.join('\n'), sleeps };
}

/** The names of the CodePipeline commands sent, in order. */
export function pipelineCalls(): string[] {
  return pipeline.calls().map((c) => (c.args[0] as object).constructor.name.replace(/Command$/, ''));
}

export function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}
