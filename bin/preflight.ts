#!/usr/bin/env node
/**
 * `npm run preflight`: checks every account and region cdk.json names before the first
 * `npx cdk deploy NotesPipeline`. See lib/preflight/ and docs/02-cicd.md ("First deploy").
 */
import { processIo } from '../lib/cli/io';
import { runPreflight } from '../lib/preflight/main';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

runPreflight(process.argv.slice(2), processIo()).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
