/**
 * What the pipelines' own Lambda steps (backup check, release recorder, rollback steps) and the
 * operator CLI share: reading the CodePipeline job event, reporting the job's outcome exactly once,
 * and reading what each action of an execution did.
 *
 * No CDK imports here: the Lambdas and the CLI load this file.
 */
import {
  ActionExecutionDetail,
  CodePipelineClient,
  ListActionExecutionsCommand,
  ListActionExecutionsCommandOutput,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
} from '@aws-sdk/client-codepipeline';

export interface S3ArtifactLocation {
  bucketName: string;
  objectKey: string;
}

export interface PipelineJob {
  id: string;
  userParameters: string | undefined;
  inputArtifacts: { name: string; location: S3ArtifactLocation }[];
  artifactCredentials?: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
}

interface RawJob {
  id?: unknown;
  data?: {
    actionConfiguration?: { configuration?: { UserParameters?: string } };
    inputArtifacts?: { name: string; location?: { s3Location?: S3ArtifactLocation } }[];
    artifactCredentials?: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  };
}

/** The job in a CodePipeline Lambda invoke event, or undefined when the event is something else. */
export function jobOf(event: unknown): PipelineJob | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const raw = (event as Record<string, unknown>)['CodePipeline.job'] as RawJob | undefined;
  if (!raw || typeof raw.id !== 'string' || raw.id === '') return undefined;
  return {
    id: raw.id,
    userParameters: raw.data?.actionConfiguration?.configuration?.UserParameters,
    inputArtifacts: (raw.data?.inputArtifacts ?? [])
      .filter((a) => a.location?.s3Location)
      .map((a) => ({ name: a.name, location: a.location!.s3Location! })),
    artifactCredentials: raw.data?.artifactCredentials,
  };
}

/** Parses UserParameters as a JSON object; throws a message naming the action when it is not. */
export function parseJsonParameters(raw: string | undefined, step: string): Record<string, unknown> {
  if (!raw) throw new Error(`${step}: UserParameters are missing`);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new Error(`${step}: UserParameters are not JSON (${raw.slice(0, 100)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${step}: UserParameters must be a JSON object`);
  return value as Record<string, unknown>;
}

const MAX_SUMMARY = 2048;
const MAX_FAILURE = 5000;
const cut = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 3)}...`);

/**
 * Reports a job's success; with a `continuationToken` the action is still in progress, and
 * CodePipeline invokes the function again with that token (no output variables then).
 */
export async function reportSuccess(
  client: CodePipelineClient,
  jobId: string,
  summary: string,
  outputVariables?: Record<string, string>,
  continuationToken?: string,
): Promise<void> {
  await client.send(
    new PutJobSuccessResultCommand({
      jobId,
      executionDetails: { summary: cut(summary, MAX_SUMMARY), ...(continuationToken ? {} : { percentComplete: 100 }) },
      ...(outputVariables && !continuationToken ? { outputVariables } : {}),
      ...(continuationToken ? { continuationToken } : {}),
    }),
  );
}

export async function reportFailure(client: CodePipelineClient, jobId: string, message: string): Promise<void> {
  await client.send(new PutJobFailureResultCommand({ jobId, failureDetails: { type: 'JobFailed', message: cut(message, MAX_FAILURE) } }));
}

/**
 * Runs a job's work and reports its outcome once: the returned summary as success, any thrown
 * error's message as failure. Never throws, so Lambda's retries never run a reported job again.
 */
export async function runJob(
  client: CodePipelineClient,
  jobId: string,
  work: () => Promise<{ summary: string; outputVariables?: Record<string, string> }>,
  log: (message: string, detail: Record<string, unknown>) => void = (m, d) => console.log(JSON.stringify({ message: m, ...d })),
): Promise<void> {
  let outcome: { ok: true; summary: string; outputVariables?: Record<string, string> } | { ok: false; message: string };
  try {
    const result = await work();
    outcome = { ok: true, ...result };
  } catch (err) {
    outcome = { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  try {
    if (outcome.ok) await reportSuccess(client, jobId, outcome.summary, outcome.outputVariables);
    else await reportFailure(client, jobId, outcome.message);
    log('job reported', { jobId, outcome: outcome.ok ? 'success' : 'failure', ...(outcome.ok ? {} : { reason: outcome.message }) });
  } catch (err) {
    log('reporting the job failed', { jobId, error: (err as Error).message });
  }
}

/** Every action execution of one pipeline execution (all pages), oldest first. */
export async function listActionExecutions(client: CodePipelineClient, pipelineName: string, executionId: string): Promise<ActionExecutionDetail[]> {
  const details: ActionExecutionDetail[] = [];
  let nextToken: string | undefined;
  do {
    const out: ListActionExecutionsCommandOutput = await client.send(
      new ListActionExecutionsCommand({ pipelineName, filter: { pipelineExecutionId: executionId }, nextToken }),
    );
    details.push(...(out.actionExecutionDetails ?? []));
    nextToken = out.nextToken;
  } while (nextToken);
  // Oldest first, so a stage rolled back and run again reports its last run last.
  return details.sort((a, b) => (a.startTime?.getTime() ?? 0) - (b.startTime?.getTime() ?? 0));
}
