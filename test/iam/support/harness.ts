/**
 * The IAM contract harness: one table row per component says who runs it (the principals, from
 * the synthesized templates) and what the names in its tests stand for in the deployed world; the
 * calls come from the recordings of the first test phase. `contractSuite()` turns the rows into
 * one jest test per component, principal and call, each asking the simulator for Allowed, plus one
 * per call the component must never be able to make, asking for a denial.
 *
 * A failure reads like the AccessDenied AWS would log, followed by where the call came from:
 *
 *   lambda/release-recorder as NotesPipeline/ReleaseReleaseRecorderStepRecorderRole...:
 *   AccessDenied: User: arn:aws:sts::123456789012:assumed-role/.../session is not authorized to
 *   perform: kms:Decrypt on resource: arn:aws:kms:... because no identity-based policy allows ...
 *   (GetObjectCommand from lambda/release-recorder/record.ts, recorded by test/pipeline/release-recorder.test.ts)
 *
 * Usage (one test file per area; the app is synthesized once per file):
 *
 *   const world = new IamWorld();
 *   contractSuite(world, [{ component: 'cli/restore', principals: (w) => [w.use('DataRestorePolicy', ...)] }]);
 */
import { join } from 'node:path';
import { iamRequestsOf, IamRequest } from './actions';
import { Json, PARTITION } from './cfn';
import { readRecordings, RecordedCall, Recordings } from './recorded';
import { ACCOUNT, IamWorld, Principal } from './world';

export { IamWorld, ACCOUNT } from './world';
export type { Principal } from './world';

const ROOT = join(__dirname, '..', '..', '..');

/** One way a component runs: as this principal, with this configuration. */
export interface PrincipalUse {
  /** Shown in test names, e.g. `notes-release recorder`. */
  readonly label: string;
  readonly principal: Principal;
  /**
   * The component's environment as deployed (a Lambda's Environment.Variables, a CodeBuild
   * project's variables), resolved. A recorded input value that was an environment variable's in
   * the test becomes that variable's deployed value.
   */
  readonly env?: Record<string, string>;
  /**
   * What other names in the tests stand for, by input field (e.g. every `TableName` the CLI's
   * tests use is the ledger's). A function may decide per value.
   */
  readonly names?: Partial<Record<string, string | ((value: string, call: RecordedCall) => string)>>;
  /** Region the component's clients call (default the world's). */
  readonly region?: string;
  /**
   * Some calls run with other credentials than the principal's (a Lambda action's artifact
   * credentials): return the principals that must be allowed instead.
   */
  readonly principalsFor?: (request: IamRequest, call: RecordedCall) => { label: string; principal: Principal }[] | undefined;
}

/** A call the component must never be able to make. */
export interface ForbiddenCall {
  readonly action: string;
  readonly resource: string;
  /** Why not, in a few words (shown in the test name). */
  readonly why: string;
}

export interface ComponentRow {
  /** As the recorder names it: `lambda/<folder>`, `script/<name>`, `cli/release`, `cli/restore`. */
  readonly component: string;
  readonly principals: (world: IamWorld) => PrincipalUse[];
  /** Calls each principal of this component must be denied. */
  readonly forbidden?: (world: IamWorld, use: PrincipalUse) => ForbiddenCall[];
}

let recordings: Recordings | undefined;
export function recorded(): Recordings {
  recordings ??= readRecordings(ROOT);
  return recordings;
}

/** The Lambda function's deployed environment variables. */
export function lambdaEnv(world: IamWorld, stackName: string, functionLogicalId: string): Record<string, string> {
  const env = (world.stack(stackName).props(functionLogicalId).Environment as { Variables?: Record<string, Json> } | undefined)?.Variables ?? {};
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
}

/** A CodeBuild project's deployed environment variables (plain-text ones). */
export function projectEnv(world: IamWorld, stackName: string, projectLogicalId: string): Record<string, string> {
  const vars = ((world.stack(stackName).props(projectLogicalId).Environment as { EnvironmentVariables?: { Name: string; Value: Json }[] }).EnvironmentVariables ?? []);
  return Object.fromEntries(vars.map((v) => [v.Name, String(v.Value)]));
}

/** Replaces the test's names in a recorded call by the deployed ones. */
export function bindCall(call: RecordedCall, use: PrincipalUse): Record<string, unknown> {
  const input: Record<string, unknown> = { ...call.input };
  for (const [field, value] of Object.entries(input)) {
    if (typeof value !== 'string') continue;
    const variable = call.env[field];
    if (variable && use.env?.[variable] !== undefined) {
      input[field] = use.env[variable];
      continue;
    }
    const name = use.names?.[field];
    if (typeof name === 'string') input[field] = name;
    else if (typeof name === 'function') input[field] = name(value, call);
  }
  return input;
}

interface Case {
  title: string;
  principal: Principal;
  request: IamRequest;
  origin: string;
}

function casesOf(world: IamWorld, row: ComponentRow, calls: (RecordedCall & { testFile: string })[]): { cases: Case[]; unmapped: string[] } {
  const cases = new Map<string, Case>();
  const unmapped = new Set<string>();
  for (const use of row.principals(world)) {
    const ctx = { account: ACCOUNT, region: use.region ?? world.region, topicKey: (arn: string) => world.topicKey(arn) };
    for (const call of calls) {
      const requests = iamRequestsOf(call.command, bindCall(call, use), ctx);
      if (!requests) {
        unmapped.add(`${call.command} (${call.client}, from ${call.from}, recorded by ${call.testFile})`);
        continue;
      }
      for (const request of requests) {
        const runners = use.principalsFor?.(request, call) ?? [{ label: use.label, principal: use.principal }];
        for (const runner of runners) {
          const key = `${runner.principal.arn}|${request.action}|${request.resource}`;
          if (cases.has(key)) continue;
          cases.set(key, {
            title: `${row.component} as ${runner.label}: ${call.command} -> ${request.action} on ${request.resource} is Allowed`,
            principal: runner.principal,
            request,
            origin: `${call.command} from ${call.from}, recorded by ${call.testFile}`,
          });
        }
      }
    }
  }
  return { cases: [...cases.values()], unmapped: [...unmapped] };
}

/** Fails with AWS's wording unless the simulator allows the request. */
export async function expectAllowed(world: IamWorld, who: string, principal: Principal, request: IamRequest, origin?: string): Promise<void> {
  const outcome = await world.simulate({ principal, ...request });
  if (outcome.decision !== 'Allowed') throw new Error(`${who}:\n${outcome.denial}${origin ? `\n(${origin})` : ''}`);
}

/** Fails unless the simulator denies the request (explicitly or implicitly). */
export async function expectDenied(world: IamWorld, who: string, principal: Principal, request: IamRequest, why: string): Promise<void> {
  const outcome = await world.simulate({ principal, ...request });
  if (outcome.decision === 'Allowed') {
    throw new Error(`${who} (${principal.definedIn}) is ALLOWED to perform ${request.action} on ${request.resource}, which it must never do: ${why}`);
  }
}

/**
 * Defines the tests of these components: for each, that its tests recorded calls, that every
 * recorded command has an IAM mapping, one test per principal and IAM request (Allowed), and one
 * per forbidden call (Denied).
 */
export function contractSuite(world: IamWorld, rows: ComponentRow[]): void {
  const all = recorded();
  for (const row of rows) {
    const calls = all.calls.filter((c) => c.component === row.component);
    describe(row.component, () => {
      it(`${row.component}: the first test phase recorded its AWS calls`, () => {
        if (calls.length === 0) {
          throw new Error(
            `no recorded AWS SDK calls of ${row.component} in .iam-calls/: the IAM contract phase reads what the other test suites record, so run \`npm test\` (or \`npx jest\` before \`npx jest -c jest.iam.config.js\`)`,
          );
        }
      });
      const { cases, unmapped } = casesOf(world, row, calls);
      for (const u of unmapped) {
        it(`${row.component}: ${u.split(' ')[0]} has an IAM mapping`, () => {
          throw new Error(`${row.component} sends ${u}, which test/iam/support/actions.ts cannot map to an IAM action and resource: add its row (Service Authorization Reference)`);
        });
      }
      for (const c of cases) {
        it(c.title, () => expectAllowed(world, `${row.component} as ${c.principal.definedIn}`, c.principal, c.request, c.origin));
      }
      for (const use of row.principals(world)) {
        for (const f of row.forbidden?.(world, use) ?? []) {
          it(`${row.component} as ${use.label}: ${f.action} on ${f.resource} is Denied (${f.why})`, () =>
            expectDenied(world, row.component, use.principal, { action: f.action, resource: f.resource }, f.why));
        }
      }
    });
  }
}

/** ARN helpers for forbidden calls and static cases. */
export const arns = {
  object: (bucket: string, key: string) => `arn:${PARTITION}:s3:::${bucket}/${key}`,
  table: (world: IamWorld, name: string) => `arn:${PARTITION}:dynamodb:${world.region}:${ACCOUNT}:table/${name}`,
  pipeline: (world: IamWorld, name: string) => `arn:${PARTITION}:codepipeline:${world.region}:${ACCOUNT}:${name}`,
};
