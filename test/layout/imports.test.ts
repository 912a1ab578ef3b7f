/**
 * Infrastructure and runtime live apart: code that runs in a Lambda, in a CodeBuild step or on an
 * operator's machine never imports from a folder of CDK constructs, and the release runtime never
 * loads the CDK.
 */
import { readdirSync, readFileSync, statSync } from 'fs';
import { join, relative } from 'path';

const root = join(__dirname, '..', '..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (name === 'node_modules') return [];
    if (statSync(full).isDirectory()) return tsFiles(full);
    return name.endsWith('.ts') ? [full] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]);
}

const runtimeFolders = ['lambda', 'lib/release', 'lib/cli', 'lib/restore', 'lib/local'];
const runtimeFiles = runtimeFolders.flatMap((folder) => tsFiles(join(root, folder)));

describe('runtime code and infrastructure live apart', () => {
  it('finds the runtime code it checks', () => {
    expect(runtimeFiles.length).toBeGreaterThan(40);
  });

  it.each(runtimeFolders)('nothing under %s imports from lib/pipeline or lib/constructs', (folder) => {
    const offending = runtimeFiles
      .filter((file) => relative(root, file).startsWith(folder + '/'))
      .flatMap((file) =>
        imports(file)
          .filter((spec) => /(^|\/)(pipeline|constructs)\//.test(spec) && spec.startsWith('.'))
          .map((spec) => `${relative(root, file)} imports ${spec}`),
      );
    expect(offending).toEqual([]);
  });

  it('the release runtime and the Lambda handlers never load the CDK', () => {
    const offending = runtimeFiles
      .filter((file) => /^(lambda|lib\/release)\//.test(relative(root, file)))
      .flatMap((file) => imports(file).filter((spec) => spec === 'aws-cdk-lib' || spec.startsWith('aws-cdk-lib/') || spec === 'constructs').map((spec) => `${relative(root, file)} imports ${spec}`));
    expect(offending).toEqual([]);
  });
});
