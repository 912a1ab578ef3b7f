/**
 * The synth's esbuild cache (lib/constructs/build-cache.ts): a build is reused only while every file
 * it read is unchanged, and a hit gives the bytes a fresh build gives.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { cachedBuild } from '../../lib/constructs/build-cache';

let project: string;
const options = () => ({ entryPoints: [join(project, 'main.ts')], outdir: join(project, 'out'), bundle: true, platform: 'node' as const, format: 'cjs' as const, absWorkingDir: project, logLevel: 'silent' as const });
const text = (files: { path: string; contents: Uint8Array }[]) => files.map((f) => `${f.path}: ${Buffer.from(f.contents).toString('utf8')}`).join('\n');

beforeEach(() => {
  project = mkdtempSync(join(tmpdir(), 'notes-build-cache-'));
  writeFileSync(join(project, 'main.ts'), "import { word } from './word';\nconsole.log(word);\n");
  writeFileSync(join(project, 'word.ts'), "export const word = 'first';\n");
});
afterEach(() => {
  rmSync(project, { recursive: true, force: true });
});

test('an unchanged build is reused without running esbuild, with the same bytes', () => {
  const first = cachedBuild(options(), join(project, 'out'));
  const build = jest.fn(esbuild.buildSync);

  const second = cachedBuild(options(), join(project, 'out'), build as unknown as typeof esbuild.buildSync);

  expect(build).not.toHaveBeenCalled();
  expect(text(second)).toBe(text(first));
  expect(text(second)).toContain('first');
});

test('a change to any file the build read (here an import of the entry) rebuilds', () => {
  cachedBuild(options(), join(project, 'out'));
  writeFileSync(join(project, 'word.ts'), "export const word = 'second';\n");
  const build = jest.fn(esbuild.buildSync);

  const after = cachedBuild(options(), join(project, 'out'), build as unknown as typeof esbuild.buildSync);

  expect(build).toHaveBeenCalledTimes(1);
  expect(text(after)).toContain('second');
  expect(text(after)).not.toContain('first');
});

test('the cached output is what esbuild writes for the same build', () => {
  cachedBuild(options(), join(project, 'out'));
  const cached = cachedBuild(options(), join(project, 'out'));
  const fresh = esbuild.buildSync({ ...options(), write: false });
  expect(text(cached)).toBe(fresh.outputFiles.map((f) => `${f.path.slice(join(project, 'out').length + 1)}: ${f.text}`).join('\n'));
});
