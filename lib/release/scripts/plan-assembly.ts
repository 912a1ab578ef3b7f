/**
 * The Plan steps' copy of a cloud assembly (#11): the same assembly, with every role the CDK CLI
 * would assume for one stack replaced by the prod plan role, so `cdk deploy --no-execute` on the
 * copy prepares the change set and publishes the assets through that role, and through no other.
 *
 * The CLI reads the roles from the assembly, not from its command line:
 *   - `manifest.json`, the stack artifact's `properties.assumeRoleArn` (CloudFormation calls and the
 *     bootstrap version) and `properties.lookupRole.arn` (template reads of a diff);
 *   - each `*.assets.json` the stack depends on, every destination's `assumeRoleArn` (publishing
 *     its file assets, the template among them).
 * The CloudFormation execution role (`cloudFormationExecutionRoleArn`) stays: the plan role passes
 * it to the change set, as the deploy role would. Nothing else changes, so the templates, and the
 * plan made from them, are the assembly's own.
 *
 *   node bin/plan-assembly.js --assembly <cloud assembly dir> --stack NotesStack-prod \
 *     --role-arn <plan role> --out <new dir>
 * Exit codes: 0 copied (one line per replaced field on stdout), 1 the assembly lacks a field it
 * needs (the message names it) or could not be copied, 2 usage.
 */
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { arg } from './cloudformation-client';
import { runAsScript } from './run-as-script';

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

interface Artifact {
  type?: string;
  displayName?: string;
  dependencies?: string[];
  properties?: {
    stackName?: string;
    file?: string;
    assumeRoleArn?: string;
    lookupRole?: { arn?: string };
  };
}
interface Destination {
  assumeRoleArn?: string;
}
interface AssetManifest {
  files?: Record<string, { destinations?: Record<string, Destination> }>;
  dockerImages?: Record<string, unknown>;
}

export class PlanAssemblyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanAssemblyError';
  }
}

export interface PlanAssemblyResult {
  /** Where the copy is. */
  dir: string;
  /** The fields that now name the plan role, as `<file>: <path>`. */
  replaced: string[];
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** Copies the assembly to `outDir` and points every role the CLI assumes for `stackName` at `roleArn`. */
export function planAssembly(assemblyDir: string, stackName: string, roleArn: string, outDir: string): PlanAssemblyResult {
  if (!ROLE_ARN.test(roleArn)) throw new PlanAssemblyError(`plan assembly: ${roleArn} is not an IAM role ARN`);
  if (!existsSync(join(assemblyDir, 'manifest.json'))) throw new PlanAssemblyError(`plan assembly: ${assemblyDir} is not a cloud assembly (no manifest.json)`);
  if (existsSync(outDir) && readdirSync(outDir).length > 0) throw new PlanAssemblyError(`plan assembly: ${outDir} is not empty`);

  const manifest = readJson<{ artifacts?: Record<string, Artifact> }>(join(assemblyDir, 'manifest.json'));
  const artifacts = manifest.artifacts ?? {};
  const entry = Object.entries(artifacts).find(([id, a]) => a.type === 'aws:cloudformation:stack' && (a.properties?.stackName ?? id) === stackName);
  if (!entry) throw new PlanAssemblyError(`plan assembly: the cloud assembly in ${assemblyDir} has no stack ${stackName}`);
  const [id, stack] = entry;
  const replaced: string[] = [];
  const missing = (what: string) =>
    new PlanAssemblyError(`plan assembly: ${what} is missing, so the CDK CLI would not assume the plan role for ${stackName} (was the assembly synthesized with the default stack synthesizer?); nothing was planned`);

  if (typeof stack.properties?.assumeRoleArn !== 'string') throw missing(`manifest.json artifacts.${id}.properties.assumeRoleArn`);
  stack.properties.assumeRoleArn = roleArn;
  replaced.push(`manifest.json: artifacts.${id}.properties.assumeRoleArn`);
  if (stack.properties.lookupRole) {
    if (typeof stack.properties.lookupRole.arn !== 'string') throw missing(`manifest.json artifacts.${id}.properties.lookupRole.arn`);
    stack.properties.lookupRole.arn = roleArn;
    replaced.push(`manifest.json: artifacts.${id}.properties.lookupRole.arn`);
  }

  const assetManifests = (stack.dependencies ?? []).map((dep) => [dep, artifacts[dep]] as const).filter(([, a]) => a?.type === 'cdk:asset-manifest');
  if (assetManifests.length === 0) throw missing(`the asset manifest of ${stackName} (a cdk:asset-manifest artifact among artifacts.${id}.dependencies)`);
  const rewritten: Record<string, AssetManifest> = {};
  for (const [dep, artifact] of assetManifests) {
    const file = artifact!.properties?.file;
    if (!file) throw missing(`manifest.json artifacts.${dep}.properties.file`);
    const assets = readJson<AssetManifest>(join(assemblyDir, file));
    if (Object.keys(assets.dockerImages ?? {}).length > 0) {
      throw new PlanAssemblyError(`plan assembly: ${file} has container image assets, which the plan role does not publish; nothing was planned`);
    }
    for (const [hash, asset] of Object.entries(assets.files ?? {})) {
      const destinations = Object.entries(asset.destinations ?? {});
      if (destinations.length === 0) throw missing(`${file} files.${hash}.destinations`);
      for (const [name, destination] of destinations) {
        if (typeof destination.assumeRoleArn !== 'string') throw missing(`${file} files.${hash}.destinations.${name}.assumeRoleArn`);
        destination.assumeRoleArn = roleArn;
        replaced.push(`${file}: files.${hash}.destinations.${name}.assumeRoleArn`);
      }
    }
    rewritten[file] = assets;
  }

  cpSync(assemblyDir, outDir, { recursive: true });
  writeFileSync(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  for (const [file, assets] of Object.entries(rewritten)) writeFileSync(join(outDir, file), JSON.stringify(assets, null, 2));
  return { dir: outDir, replaced };
}

export async function main(argv: string[]): Promise<number> {
  const assemblyDir = arg(argv, 'assembly');
  const stackName = arg(argv, 'stack');
  const roleArn = arg(argv, 'role-arn');
  const outDir = arg(argv, 'out');
  if (!assemblyDir || !stackName || !roleArn || !outDir) {
    console.error('usage: plan-assembly --assembly DIR --stack NAME --role-arn ARN --out DIR');
    return 2;
  }
  try {
    const result = planAssembly(assemblyDir, stackName, roleArn, outDir);
    console.log(`plan assembly: ${result.dir} is ${assemblyDir} with ${stackName} planned through ${roleArn}; replaced:`);
    for (const field of result.replaced) console.log(`  ${field}`);
    return 0;
  } catch (err) {
    console.error(err instanceof PlanAssemblyError ? err.message : `plan assembly: could not copy ${assemblyDir}: ${(err as Error).message}`);
    return 1;
  }
}

runAsScript(module, 'plan-assembly', main);
