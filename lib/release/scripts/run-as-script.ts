/**
 * Runs a script's `main` when the script itself was started (`npx tsx lib/release/scripts/x.ts`,
 * or `node bin/x.js` from the rollback kit's bundles), and only then.
 *
 * `require.main === module` alone is not enough: in an esbuild bundle every bundled module shares
 * the bundle's `module`, so each imported script would run its own main. The script's name is
 * compared with the file Node was started with as well.
 */
import { basename } from 'path';

export function runAsScript(mod: NodeModule, name: string, main: (argv: string[]) => Promise<number>): void {
  if (require.main !== mod) return;
  if (basename(process.argv[1] ?? '').replace(/\.(ts|js|cjs|mjs)$/, '') !== name) return;
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
