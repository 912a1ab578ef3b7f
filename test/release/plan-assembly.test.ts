/**
 * The Plan steps' rewritten copy of a cloud assembly (lib/release/scripts/plan-assembly.ts): on an
 * assembly synthesized from this repository, every role the CDK CLI assumes for the prod stack is
 * the plan role (read back with cx-api, the CLI's own reader), and nothing else changes; an
 * assembly without the fields it rewrites is refused, naming the field.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { main, planAssembly } from '../../lib/release/scripts/plan-assembly';
import { buildTestApp } from '../infra/fixture';

const STACK = 'NotesStack-prod';
const PLAN_ROLE = 'arn:aws:iam::333333333333:role/notes-release-plan-eu-west-1';
let work: string;
let assembly: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'plan-assembly-'));
  assembly = join(work, 'assembly');
  buildTestApp({ outdir: assembly }).app.synth();
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const fresh = () => join(mkdtempSync(join(work, 'out-')), 'planned');
const json = (dir: string, file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
/** Every destination role of one asset manifest. */
const destinationRoles = (dir: string, file: string) =>
  Object.values((json(dir, file) as { files: Record<string, { destinations: Record<string, { assumeRoleArn: string }> }> }).files).flatMap((f) =>
    Object.values(f.destinations).map((d) => d.assumeRoleArn),
  );

describe('planAssembly', () => {
  test('the CLI reading the copy assumes the plan role for the prod stack, for its CloudFormation calls and for every file asset', () => {
    // Act
    const out = fresh();
    const result = planAssembly(assembly, STACK, PLAN_ROLE, out);

    // Assert: as the CDK CLI reads it
    const prod = new cxapi.CloudAssembly(out).getStackByName(STACK);
    expect(prod.assumeRoleArn).toBe(PLAN_ROLE);
    expect(prod.lookupRole?.arn).toBe(PLAN_ROLE);
    const roles = destinationRoles(out, `${STACK}.assets.json`);
    expect(roles.length).toBeGreaterThan(1);
    expect(new Set(roles)).toEqual(new Set([PLAN_ROLE]));
    // what was replaced, field by field
    expect(result.replaced).toEqual([
      `manifest.json: artifacts.${STACK}.properties.assumeRoleArn`,
      `manifest.json: artifacts.${STACK}.properties.lookupRole.arn`,
      ...Object.entries((json(assembly, `${STACK}.assets.json`) as { files: Record<string, { destinations: Record<string, unknown> }> }).files).flatMap(([hash, f]) =>
        Object.keys(f.destinations).map((d) => `${STACK}.assets.json: files.${hash}.destinations.${d}.assumeRoleArn`),
      ),
    ]);
  });

  test('nothing else changes: the execution role, the other stacks, the templates and the assets are the assembly\'s own', () => {
    // Act
    const out = fresh();
    planAssembly(assembly, STACK, PLAN_ROLE, out);

    // Assert
    const before = new cxapi.CloudAssembly(assembly);
    const after = new cxapi.CloudAssembly(out);
    expect(after.getStackByName(STACK).cloudFormationExecutionRoleArn).toBe(before.getStackByName(STACK).cloudFormationExecutionRoleArn);
    expect(after.getStackByName(STACK).cloudFormationExecutionRoleArn).toContain('cfn-exec-role');
    expect(after.getStackByName('NotesStack-dev').assumeRoleArn).toBe(before.getStackByName('NotesStack-dev').assumeRoleArn);
    expect(after.getStackByName('NotesStack-dev').assumeRoleArn).toContain('cdk-hnb659fds-deploy-role-');
    expect(readdirSync(out).sort()).toEqual(readdirSync(assembly).sort());
    for (const file of readdirSync(assembly).filter((f) => f !== 'manifest.json' && f !== `${STACK}.assets.json` && f.endsWith('.json'))) {
      expect({ file, text: readFileSync(join(out, file), 'utf8') }).toEqual({ file, text: readFileSync(join(assembly, file), 'utf8') });
    }
    // The source assembly is left as it was.
    expect(new Set(destinationRoles(assembly, `${STACK}.assets.json`)).has(PLAN_ROLE)).toBe(false);
  });

  /** A copy of the assembly with one edit to one of its files. */
  function broken(file: string, edit: (doc: Record<string, unknown>) => void): string {
    const dir = join(mkdtempSync(join(work, 'broken-')), 'assembly');
    cpSync(assembly, dir, { recursive: true });
    const doc = json(dir, file);
    edit(doc);
    writeFileSync(join(dir, file), JSON.stringify(doc));
    return dir;
  }
  type Manifest = { artifacts: Record<string, { properties: Record<string, unknown>; dependencies?: string[] }> };
  type Assets = { files: Record<string, { destinations: Record<string, Record<string, unknown>> }>; dockerImages?: Record<string, unknown> };

  test.each([
    [
      'the stack has no assumeRoleArn',
      () => broken('manifest.json', (m) => delete (m as Manifest).artifacts[STACK].properties.assumeRoleArn),
      `plan assembly: manifest.json artifacts.${STACK}.properties.assumeRoleArn is missing`,
    ],
    [
      'the stack depends on no asset manifest',
      () => broken('manifest.json', (m) => ((m as Manifest).artifacts[STACK].dependencies = [])),
      `plan assembly: the asset manifest of ${STACK}`,
    ],
    [
      'a file destination has no assumeRoleArn',
      () =>
        broken(`${STACK}.assets.json`, (a) => {
          const [hash, f] = Object.entries((a as Assets).files)[0];
          const [name, d] = Object.entries(f.destinations)[0];
          delete d.assumeRoleArn;
          (a as Assets).files[hash].destinations[name] = d;
        }),
      'destinations.',
    ],
    ['the assembly has container image assets', () => broken(`${STACK}.assets.json`, (a) => ((a as Assets).dockerImages = { x: {} })), 'container image assets'],
  ])('refuses an assembly when %s, naming it, and writes nothing', (_what, make, message) => {
    const dir = make();
    const out = fresh();
    expect(() => planAssembly(dir, STACK, PLAN_ROLE, out)).toThrow(message);
    expect(existsSync(out)).toBe(false);
  });

  test('refuses an unknown stack, a role that is not an ARN and a directory that is no assembly', () => {
    expect(() => planAssembly(assembly, 'NotesStack-nope', PLAN_ROLE, fresh())).toThrow('has no stack NotesStack-nope');
    expect(() => planAssembly(assembly, STACK, 'notes-release-plan-eu-west-1', fresh())).toThrow('is not an IAM role ARN');
    expect(() => planAssembly(work, STACK, PLAN_ROLE, fresh())).toThrow('is not a cloud assembly (no manifest.json)');
  });
});

describe('plan-assembly command line', () => {
  test('exit 0 listing the replaced fields; 1 with one line naming the problem; 2 on usage', async () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await expect(main(['--assembly', assembly, '--stack', STACK, '--role-arn', PLAN_ROLE, '--out', fresh()])).resolves.toBe(0);
      expect(log.mock.calls[0][0]).toContain(`planned through ${PLAN_ROLE}`);
      await expect(main(['--assembly', assembly, '--stack', 'NotesStack-nope', '--role-arn', PLAN_ROLE, '--out', fresh()])).resolves.toBe(1);
      expect(error.mock.calls.map((c) => c[0])).toEqual([`plan assembly: the cloud assembly in ${assembly} has no stack NotesStack-nope`]);
      await expect(main(['--stack', STACK])).resolves.toBe(2);
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  });

  test('as the kit runs it (node bin/plan-assembly.js), on its own', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, '..', '..', 'lib', 'release', 'scripts', 'plan-assembly.ts')], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('usage: plan-assembly --assembly DIR');
  });
});
