/**
 * Bundles each Lambda under `lambda/` (and the floor handler) the way the CDK stack's
 * `NodejsFunction` does, so the benchmark measures what actually ships.
 */
import { build, type BuildOptions } from 'esbuild';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SERVICE_ESBUILD_OPTIONS } from '../constructs/lambda-bundle';

/**
 * The esbuild options every service function is bundled with at synth (lib/constructs/lambda-bundle.ts,
 * the same flags `NodejsFunction` used): minified, with source maps, CommonJS for Node 22 on
 * Lambda, `@aws-sdk/*` external (the runtime provides it), everything else bundled.
 */
export const LAMBDA_BUNDLE_OPTIONS: BuildOptions = {
  ...SERVICE_ESBUILD_OPTIONS,
  external: [...SERVICE_ESBUILD_OPTIONS.external],
  logLevel: 'silent',
};

export interface LambdaEntry {
  /** `notes-api`, `smoke-test`, ... or `floor` for the floor handler. */
  name: string;
  entry: string;
}

export interface BundleResult extends LambdaEntry {
  file: string;
  bytes: number;
  mapBytes: number;
  /** Bytes contributed per top-level package (from the esbuild metafile), largest first. */
  topInputs: Array<{ pkg: string; bytes: number }>;
}

export const FLOOR_ENTRY: LambdaEntry = {
  name: 'floor',
  entry: resolve(__dirname, 'floor-handler.ts'),
};

/** Every `lambda/<name>/index.ts` in the repository. */
export function discoverLambdas(repoRoot: string): LambdaEntry[] {
  const dir = join(repoRoot, 'lambda');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => statSync(join(dir, name)).isDirectory() && existsSync(join(dir, name, 'index.ts')))
    .sort()
    .map((name) => ({ name, entry: join(dir, name, 'index.ts') }));
}

function packageOf(inputPath: string): string {
  const idx = inputPath.lastIndexOf('node_modules/');
  if (idx < 0) return '(own code)';
  const rest = inputPath.slice(idx + 'node_modules/'.length).split('/');
  return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
}

export async function bundleLambda(
  lambda: LambdaEntry,
  outDir: string,
  overrides: BuildOptions = {},
): Promise<BundleResult> {
  const dir = join(outDir, lambda.name);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'index.js');
  const result = await build({
    ...LAMBDA_BUNDLE_OPTIONS,
    ...overrides,
    entryPoints: [lambda.entry],
    outfile: file,
    metafile: true,
  });
  const perPkg = new Map<string, number>();
  const output = result.metafile.outputs[Object.keys(result.metafile.outputs).find((k) => k.endsWith('index.js')) ?? ''];
  for (const [input, info] of Object.entries(output?.inputs ?? {})) {
    const pkg = packageOf(input);
    perPkg.set(pkg, (perPkg.get(pkg) ?? 0) + info.bytesInOutput);
  }
  return {
    ...lambda,
    file,
    bytes: statSync(file).size,
    mapBytes: existsSync(`${file}.map`) ? statSync(`${file}.map`).size : 0,
    topInputs: [...perPkg.entries()]
      .map(([pkg, bytes]) => ({ pkg, bytes }))
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, 6),
  };
}
