/**
 * The service's functions are bundled in process (lib/constructs/lambda-bundle.ts) instead of by
 * `NodejsFunction`'s `npx esbuild` in a shell. What is deployed must not change: for every
 * `lambda/<name>/index.ts`, the bundle and its source map are byte for byte what `NodejsFunction`
 * builds with the options the ServiceFunction used to give it, the asset hash (what the template
 * names) is the same, and so are the function's properties.
 *
 * This test runs the real `NodejsFunction` bundling (one `npx esbuild` per function).
 */
import { readdirSync, readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { ServiceFunction, SERVICE_RUNTIME } from '../../lib/constructs/service-function';
import { REPO_ROOT } from './fixture';

const entries = readdirSync(join(REPO_ROOT, 'lambda'))
  .filter((name) => existsSync(join(REPO_ROOT, 'lambda', name, 'index.ts')))
  .sort();

interface FunctionResource {
  Properties: { Code: { S3Key: string }; Handler: string; Runtime: string; Architectures: string[]; Environment?: unknown };
}

let outdir: string;
let template: Template;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'notes-bundling-'));
  const app = new App({ outdir });
  const stack = new Stack(app, 'Bundles');
  for (const name of entries) {
    const entry = join('lambda', name, 'index.ts');
    new ServiceFunction(stack, `Service-${name}`, {
      entry,
      description: name,
      timeout: Duration.seconds(10),
      memorySize: 256,
      logRetention: logs.RetentionDays.ONE_DAY,
      logRemovalPolicy: RemovalPolicy.DESTROY,
      environment: { EXAMPLE: name },
    });
    // The ServiceFunction as it was before: NodejsFunction bundling with these options.
    new NodejsFunction(stack, `Reference-${name}`, {
      entry,
      handler: 'handler',
      runtime: SERVICE_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      environment: { NODE_OPTIONS: '--enable-source-maps', EXAMPLE: name },
      bundling: {
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        target: 'node22',
        format: OutputFormat.CJS,
        externalModules: ['@aws-sdk/*'],
      },
    });
  }
  app.synth();
  template = Template.fromStack(stack);
});

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/** The Lambda function resource whose logical id starts with `prefix`. */
function fn(prefix: string): FunctionResource {
  const all = template.findResources('AWS::Lambda::Function') as Record<string, FunctionResource>;
  const ids = Object.keys(all).filter((id) => id.startsWith(prefix.replace(/[^A-Za-z0-9]/g, '')));
  expect(ids).toHaveLength(1);
  return all[ids[0]];
}

function assetFiles(s3Key: string): Record<string, Buffer> {
  const dir = join(outdir, `asset.${s3Key.replace(/\.zip$/, '')}`);
  return Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f))]));
}

describe('in-process bundling ships what NodejsFunction shipped', () => {
  it('finds the functions it compares', () => {
    expect(entries).toEqual(expect.arrayContaining(['notes-api', 'smoke-test', 'smoke-user']));
  });

  it.each(entries)('%s: same bundle and source map bytes, same asset hash', (name) => {
    const ours = fn(`Service-${name}`).Properties;
    const reference = fn(`Reference-${name}`).Properties;

    const ourFiles = assetFiles(ours.Code.S3Key);
    expect(Object.keys(ourFiles)).toEqual(['index.js', 'index.js.map']);
    expect(ourFiles).toEqual(assetFiles(reference.Code.S3Key));
    expect(ours.Code.S3Key).toBe(reference.Code.S3Key);
  });

  it.each(entries)('%s: same handler, runtime, architecture and environment', (name) => {
    const { Handler, Runtime, Architectures, Environment } = fn(`Service-${name}`).Properties;
    const reference = fn(`Reference-${name}`).Properties;
    expect({ Handler, Runtime, Architectures, Environment }).toEqual({
      Handler: reference.Handler,
      Runtime: reference.Runtime,
      Architectures: reference.Architectures,
      Environment: reference.Environment,
    });
  });

  it('keeps the source map pointing at our sources (positions only, no source text)', () => {
    const map = JSON.parse(assetFiles(fn('Service-notes-api').Properties.Code.S3Key)['index.js.map'].toString('utf8')) as {
      sources: string[];
      sourcesContent?: unknown;
    };
    expect(map.sources).toEqual(expect.arrayContaining([expect.stringMatching(/lambda\/notes-api\/index\.ts$/)]));
    expect(map.sourcesContent).toBeUndefined();
  });
});
