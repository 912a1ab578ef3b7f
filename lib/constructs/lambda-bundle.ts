/**
 * How every function of the service is bundled at synth: esbuild's JS API, in this process,
 * once per entry, with exactly the options `NodejsFunction` passed to its `esbuild` CLI (see
 * docs/01-decision-log.md, "#9: synth bundles in process").
 *
 * `NodejsFunction` bundled each function through `npx --no-install esbuild ...` in a shell: about
 * 0.5-0.8 s of process start-up per function on a 2-core machine, for ~50 ms of bundling. Here
 * the asset is an ordinary bundled asset whose local bundler writes the output of one in-process
 * `buildSync`; the output bytes are the same, and so (CDK hashes the output, as `NodejsFunction`
 * does) is the asset hash. test/infra/bundling.test.ts proves both against `NodejsFunction`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { AssetHashType, BundlingOptions, DockerImage, ILocalBundling } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { BuildOptions } from 'esbuild';
import { BuiltFile, cachedBuild } from './build-cache';

/** The repository root: where `npx cdk synth` runs and `NodejsFunction` ran esbuild. */
const PROJECT_ROOT = resolve(__dirname, '..', '..');

/**
 * The esbuild options of every service function: minified, with source maps that Node applies to
 * stack traces (`NODE_OPTIONS=--enable-source-maps` on the function) and that carry positions only,
 * not our source text; CommonJS for Node 22. The Node 22 runtime ships AWS SDK v3, so `@aws-sdk/*`
 * stays out of the bundle. These are the flags `NodejsFunction` derived from the ServiceFunction's
 * former `bundling` props (`--target=node22 --platform=node --format=cjs --minify --sourcemap
 * --sources-content=false --external:@aws-sdk/*`).
 */
export const SERVICE_ESBUILD_OPTIONS = {
  bundle: true,
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  external: ['@aws-sdk/*'],
} as const satisfies BuildOptions;

/** The bundle's file name; the handler is `index.handler`. */
export const BUNDLE_FILE = 'index.js';

/**
 * Built bundles of this process, keyed on entry and output folder's parent. Source-map paths are
 * relative to the output file, and CDK always bundles into a folder directly under the assembly's
 * asset folder, so one build serves every function of that entry in that assembly.
 */
const built = new Map<string, BuiltFile[]>();

function bundleInto(entry: string, outputDir: string): void {
  const key = JSON.stringify([entry, dirname(outputDir)]);
  let files = built.get(key);
  if (!files) {
    // Paths come back relative to the output folder, so the same build can be written into another
    // folder of the same parent; an unchanged build is reused from the previous synth (build-cache.ts).
    files = cachedBuild(
      { ...SERVICE_ESBUILD_OPTIONS, entryPoints: [entry], outfile: join(outputDir, BUNDLE_FILE), absWorkingDir: PROJECT_ROOT, logLevel: 'silent' },
      outputDir,
    );
    built.set(key, files);
  }
  mkdirSync(outputDir, { recursive: true });
  for (const f of files) writeFileSync(join(outputDir, f.path), f.contents);
}

/**
 * The asset's bundling: local, in process. `entry` and `esbuild` are data, so CDK's per-process
 * asset cache (keyed on the bundling options) tells two entries apart and shares one entry's
 * asset between the environments.
 */
class InProcessEsbuild implements BundlingOptions {
  /** Never pulled: the local bundler always runs (esbuild is a dev dependency). */
  readonly image = DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs22.x');
  readonly local: ILocalBundling;
  readonly esbuild = SERVICE_ESBUILD_OPTIONS;

  constructor(readonly entry: string) {
    this.local = {
      tryBundle: (outputDir: string): boolean => {
        bundleInto(entry, outputDir);
        return true;
      },
    };
  }
}

/** The function code for a TypeScript entry (relative to the repository root, or absolute). */
export function serviceFunctionCode(entry: string): lambda.Code {
  const absolute = resolve(PROJECT_ROOT, entry);
  return lambda.Code.fromAsset(dirname(absolute), {
    // The hash of the bundle, as NodejsFunction computes it: a new asset only when the bytes change.
    assetHashType: AssetHashType.OUTPUT,
    bundling: new InProcessEsbuild(absolute),
  });
}
