/**
 * One Node.js major everywhere: what `engines` requires is what CI tests (.ci/run), what nvm picks
 * (.nvmrc), what the CodeBuild steps and the Lambdas run. A bump has to move them together.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { SERVICE_RUNTIME } from '../../lib/constructs/service-function';
import { BUILD_NODE_VERSION } from '../../lib/pipeline/steps';

const root = join(__dirname, '..', '..');
const read = (file: string): string => readFileSync(join(root, file), 'utf8');

it('engines, .nvmrc, CI, CodeBuild and the Lambda runtime all name Node 22', () => {
  const pkg = JSON.parse(read('package.json')) as { engines: { node: string } };
  const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { engines?: { node?: string } }> };
  const ci = /^NODE_VERSION=(\d+)\./m.exec(read('.ci/run'));

  expect({
    engines: pkg.engines.node,
    lock: lock.packages[''].engines?.node,
    nvmrc: read('.nvmrc').trim(),
    ci: ci?.[1],
    codebuild: BUILD_NODE_VERSION,
    lambda: SERVICE_RUNTIME.name,
  }).toEqual({ engines: '>=22', lock: '>=22', nvmrc: '22', ci: '22', codebuild: '22', lambda: 'nodejs22.x' });
});

it('the README asks for the Node version engines requires', () => {
  expect(read('README.md')).toContain('You need Node.js 22 or newer');
});
