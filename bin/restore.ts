#!/usr/bin/env node
/**
 * Data recovery: `npm run restore -- --to-time ISO --source-table NAME [--target-table NAME] [--yes] [--json]`.
 * Point-in-time restore into a new table, verified. See lib/restore/ and docs/runbooks/restore-data.md.
 */
import { processIo } from '../lib/cli/io';
import { runRestore } from '../lib/restore/main';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

runRestore(process.argv.slice(2), processIo()).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
