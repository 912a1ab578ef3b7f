/**
 * The rollback kit as a CDK asset: the folder `lib/release/rollback-kit/` (pinned CDK CLI, the
 * Plan and Deploy scripts) plus, bundled at synth, the plan renderer and the change-set executor
 * the release pipeline runs (`lib/release/scripts/render-plan.ts`, `execute-change-set.ts`), so
 * a rollback plans and executes exactly like a release, with no checkout of the repository.
 *
 * The bundles are made once per process with esbuild's API (no Docker), and the asset is hashed on
 * its output, so a change to either script gives the kit a new hash.
 */
import { cpSync, mkdirSync, mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { buildSync } from 'esbuild';
import { Construct } from 'constructs';

/** The folder published as the rollback pipeline's source (see its README). */
export const ROLLBACK_KIT_DIR = path.join(__dirname, '..', 'release', 'rollback-kit');
const SCRIPTS = ['render-plan', 'execute-change-set'];
const ROOT = path.join(__dirname, '..', '..');

let built: string | undefined;

/** The kit's contents, bundled once per process. */
export function kitContents(): string {
  if (built) return built;
  const out = mkdtempSync(path.join(tmpdir(), 'notes-rollback-kit-'));
  cpSync(ROLLBACK_KIT_DIR, out, { recursive: true, filter: (src) => !src.includes(`${path.sep}node_modules`) });
  mkdirSync(path.join(out, 'bin'), { recursive: true });
  buildSync({
    entryPoints: SCRIPTS.map((name) => path.join(ROOT, 'lib', 'release', 'scripts', `${name}.ts`)),
    outdir: path.join(out, 'bin'),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    logLevel: 'error',
    // Deterministic output: no absolute paths in the bundle.
    absWorkingDir: ROOT,
    legalComments: 'none',
  });
  // @aws-cdk/cloudformation-diff reads the resource specification from `<bundle dir>/../db.json.gz`.
  cpSync(require.resolve('@aws-cdk/aws-service-spec/db.json.gz'), path.join(out, 'db.json.gz'));
  built = out;
  return out;
}

export class RollbackKit extends s3assets.Asset {
  constructor(scope: Construct, id: string) {
    super(scope, id, {
      path: ROLLBACK_KIT_DIR,
      exclude: ['node_modules'],
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
