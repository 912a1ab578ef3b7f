/**
 * The deploy kit as a CDK asset: the folder `lib/release/deploy-kit/` (pinned CDK CLI, one shell
 * script per deploy step, `deploy-parameters.js`) plus, bundled at synth, every script those steps
 * run (`lib/release/scripts/<name>.ts` -> `bin/<name>.js`). Every step that deploys (the release and
 * hotfix pipelines' Dev deploy, RecoverFailedCreate, Plan, Prod deploy and SelfUpdate, the rollback
 * pipeline's Plan and Deploy) runs this kit, never a checkout of the repository: the cloud assembly
 * it deploys is data.
 *
 * The bundles are made once per process with esbuild's API (no Docker), and the asset is hashed on
 * its output, so a change to any bundled script gives the kit a new hash.
 */
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { cachedBuild } from '../constructs/build-cache';
import { Construct } from 'constructs';

/** The folder published as the kit (see its README). */
export const DEPLOY_KIT_DIR = path.join(__dirname, '..', 'release', 'deploy-kit');

/**
 * The scripts of `lib/release/scripts/` the kit carries as `bin/<name>.js`. Adding one is one entry
 * here (and its `node bin/<name>.js` line in a kit script).
 */
export const KIT_SCRIPTS = [
  'deploy-mode',
  'stack-outputs',
  'shift-outcome',
  'render-plan',
  'execute-change-set',
  'failed-create',
  'plan-assembly',
  'plan-mode',
] as const;

const ROOT = path.join(__dirname, '..', '..');

let built: string | undefined;

/** The kit's contents, bundled once per process. */
export function kitContents(): string {
  if (built) return built;
  const out = mkdtempSync(path.join(tmpdir(), 'notes-deploy-kit-'));
  cpSync(DEPLOY_KIT_DIR, out, { recursive: true, filter: (src) => !src.includes(`${path.sep}node_modules`) && !src.includes(`${path.sep}.pipeline`) });
  mkdirSync(path.join(out, 'bin'), { recursive: true });
  // Reused from the previous synth when no input changed (lib/constructs/build-cache.ts).
  const files = cachedBuild(
    {
      entryPoints: KIT_SCRIPTS.map((name) => path.join(ROOT, 'lib', 'release', 'scripts', `${name}.ts`)),
      outdir: path.join(out, 'bin'),
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'cjs',
      logLevel: 'error',
      // Deterministic output: no absolute paths in the bundle.
      absWorkingDir: ROOT,
      legalComments: 'none',
    },
    path.join(out, 'bin'),
  );
  for (const f of files) writeFileSync(path.join(out, 'bin', f.path), f.contents);
  // @aws-cdk/cloudformation-diff reads the resource specification from `<bundle dir>/../db.json.gz`.
  cpSync(require.resolve('@aws-cdk/aws-service-spec/db.json.gz'), path.join(out, 'db.json.gz'));
  built = out;
  return out;
}

/** The kit, published with the stack that holds it (one asset object, however many pipelines read it). */
export class DeployKit extends s3assets.Asset {
  constructor(scope: Construct, id: string) {
    super(scope, id, {
      path: DEPLOY_KIT_DIR,
      exclude: ['node_modules', '.pipeline'],
      assetHashType: AssetHashType.OUTPUT,
      bundling: {
        // Never used: local bundling always succeeds (esbuild is a dependency of the app).
        image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:22'),
        local: {
          tryBundle(outputDir: string): boolean {
            cpSync(kitContents(), outputDir, { recursive: true });
            return true;
          },
        },
      },
    });
  }
}
