/**
 * The AWS SDK calls the first test phase recorded (see record-calls.ts), read back by the IAM
 * contract phase.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the first phase writes its recordings (git-ignored; rewritten by every run of a test file). */
export const RECORDINGS_DIR = '.iam-calls';

/** Input fields that name the resource a call acts on; nothing else is recorded. */
export const RECORDED_INPUT_KEYS = [
  'TableName',
  'IndexName',
  'SourceTableName',
  'TargetTableName',
  'SourceTableArn',
  'Bucket',
  'Key',
  'VersionId',
  'SecretId',
  'TopicArn',
  'TargetArn',
  'pipelineName',
  'name',
  'stageName',
  'actionName',
  'pipelineExecutionId',
  'StackName',
  'ChangeSetName',
  'RoleArn',
  'RoleSessionName',
  'UserPoolId',
  'ClientId',
  'AuthFlow',
  'Username',
  'FunctionName',
  'Qualifier',
  'deploymentId',
  'applicationName',
  'deploymentGroupName',
  'AlarmNames',
  'ResourceArn',
  'Name',
] as const;

/** The component of a call from runtime code whose stack names no component (see record-calls.ts). */
export const UNATTRIBUTED = 'unattributed';

export interface RecordedCall {
  /** `lambda/<name>`, `script/<name>`, `cli/release` or `cli/restore`. */
  component: string;
  /** SDK client class, e.g. `S3Client`, `DynamoDBDocumentClient`. */
  client: string;
  /** Command class, e.g. `GetObjectCommand`. */
  command: string;
  /** The resource-naming fields of the input (RECORDED_INPUT_KEYS). */
  input: Record<string, unknown>;
  /** Input fields whose value was an environment variable's at the time: field -> variable. */
  env: Record<string, string>;
  count: number;
  /** The component file the call came from. */
  from: string;
}

/** The component a source file belongs to, if it is one's. */
export function componentOfFile(file: string): string | undefined {
  if (file.startsWith('node_modules/') || file.startsWith('test/')) return undefined;
  const lambda = /^lambda\/([^/]+)\//.exec(file);
  if (lambda) return `lambda/${lambda[1]}`;
  const script = /^lib\/release\/scripts\/([^/]+)\.ts$/.exec(file);
  if (script) return `script/${script[1]}`;
  if (file.startsWith('lib/cli/')) return 'cli/release';
  if (file.startsWith('lib/restore/')) return 'cli/restore';
  return undefined;
}

export interface Recordings {
  /** Test files that recorded at least one call. */
  files: string[];
  calls: (RecordedCall & { testFile: string })[];
}

export function readRecordings(root: string): Recordings {
  const dir = join(root, RECORDINGS_DIR);
  const files: string[] = [];
  const calls: (RecordedCall & { testFile: string })[] = [];
  if (!existsSync(dir)) return { files, calls };
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
    const data = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { testFile: string; calls: RecordedCall[] };
    // A recording of a test file that was since renamed or deleted says nothing about the code.
    if (!existsSync(join(root, data.testFile))) continue;
    if (data.calls.length) files.push(data.testFile);
    for (const c of data.calls) calls.push({ ...c, testFile: data.testFile });
  }
  return { files, calls };
}
