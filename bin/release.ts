#!/usr/bin/env node
/**
 * Operator CLI for the Notes release pipelines: `npm run release -- <command>` or `notes-release`.
 * status | history | rollback | resume | approve | reject; `--help` on each. See lib/cli/main.ts.
 */
import { runCli } from '../lib/cli/main';
import { processIo } from '../lib/cli/io';

// The SDK's Node-version notice is not for operators; it would sit in front of every answer.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

runCli(process.argv.slice(2), processIo()).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
