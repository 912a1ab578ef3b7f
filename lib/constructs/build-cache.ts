/**
 * An on-disk cache of esbuild builds for synth (`node_modules/.cache/notes-synth-builds/`): a build
 * is reused when its options, esbuild's version and the content of every file it read (esbuild's
 * metafile inputs) are unchanged, so a synth after a change rebuilds exactly the bundles that
 * change touched. The output is what esbuild would write, byte for byte: a hit returns the files a
 * build with the same inputs wrote. `npm ci` empties the cache (it is inside node_modules).
 *
 * A cache entry is written to a temporary folder and renamed into place, so two synths at once
 * (parallel tests) never see half an entry.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { buildSync, version as esbuildVersion, type BuildOptions } from 'esbuild';

const PROJECT_ROOT = resolve(__dirname, '..', '..');
const CACHE_ROOT = join(PROJECT_ROOT, 'node_modules', '.cache', 'notes-synth-builds');

/** One output file, its path relative to the build's output folder. */
export interface BuiltFile {
  readonly path: string;
  readonly contents: Uint8Array;
}

interface Entry {
  /** Input path (relative to absWorkingDir) -> sha256 of its content. */
  inputs: Record<string, string>;
  outputs: string[];
}

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

function inputsUnchanged(entry: Entry, workDir: string): boolean {
  for (const [file, hash] of Object.entries(entry.inputs)) {
    const path = resolve(workDir, file);
    if (!existsSync(path) || sha256(readFileSync(path)) !== hash) return false;
  }
  return true;
}

/**
 * Runs `buildSync(options)` (write: false) or returns the cached result of the same build.
 * `outputDir` is the folder the build writes into (its outdir, or its outfile's folder); the files
 * come back relative to it. `build` is esbuild's buildSync (tests count its calls).
 */
export function cachedBuild(options: BuildOptions & { absWorkingDir: string }, outputDir: string, build: typeof buildSync = buildSync): BuiltFile[] {
  // Where the output goes matters only through the paths esbuild writes relative to it (source
  // maps), so the key holds the way from the output folder to the sources, not the folder itself.
  const { outdir, outfile, ...rest } = options;
  void outdir;
  const key = sha256(
    JSON.stringify({ esbuildVersion, options: rest, toSources: relative(outputDir, options.absWorkingDir), outfile: outfile ? relative(outputDir, outfile) : undefined }),
  );
  const dir = join(CACHE_ROOT, key);
  const entryFile = join(dir, 'entry.json');
  if (existsSync(entryFile)) {
    try {
      const entry = JSON.parse(readFileSync(entryFile, 'utf8')) as Entry;
      if (inputsUnchanged(entry, options.absWorkingDir)) {
        return entry.outputs.map((path) => ({ path, contents: readFileSync(join(dir, 'out', path)) }));
      }
    } catch {
      // A damaged entry is rebuilt below.
    }
  }
  const result = build({ ...options, write: false, metafile: true });
  const files = result.outputFiles.map((f) => ({ path: relative(outputDir, f.path), contents: f.contents }));
  const entry: Entry = {
    inputs: Object.fromEntries(Object.keys(result.metafile!.inputs).map((file) => [file, sha256(readFileSync(resolve(options.absWorkingDir, file)))])),
    outputs: files.map((f) => f.path),
  };
  try {
    mkdirSync(CACHE_ROOT, { recursive: true });
    const tmp = mkdtempSync(join(CACHE_ROOT, '.tmp-'));
    for (const f of files) {
      mkdirSync(dirname(join(tmp, 'out', f.path)), { recursive: true });
      writeFileSync(join(tmp, 'out', f.path), f.contents);
    }
    writeFileSync(join(tmp, 'entry.json'), JSON.stringify(entry));
    rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(tmp, dir);
    } catch {
      // Another synth put the same entry in place first.
      rmSync(tmp, { recursive: true, force: true });
    }
  } catch {
    // No cache (read-only node_modules, say): the build is still returned.
  }
  return files;
}
