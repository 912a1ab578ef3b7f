/**
 * `npm start`: the notes service on this machine, no AWS account needed.
 * See docs/local-mode.md. Flags: `npm start -- --help`.
 */
import { resolve } from 'node:path';
import { readyBanner } from '../lib/local/banner';
import { apiSettingsFromCdkJson, DEFAULT_DATA_DIR, LOCAL_USAGE, parseLocalArgs, releaseInfo } from '../lib/local/cli';
import { LocalStackError, PortInUseError, startLocalStack, type LocalStack } from '../lib/local/stack';

const root = resolve(__dirname, '..');

// The AWS SDK warns on every start that its 2027 releases will need Node 22. The deployed Lambda
// runs Node 22; on a developer's Node 20 the warning is noise in front of the walkthrough.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** A second SIGINT/SIGTERM sooner than this after the first is the same one delivered twice. */
const REPEAT_WINDOW_MS = 1000;

function timestamp(): string {
  return new Date().toISOString().slice(11, 23);
}

async function main(): Promise<void> {
  const settings = parseLocalArgs(process.argv.slice(2), process.env);
  if (settings.help) {
    process.stdout.write(LOCAL_USAGE);
    return;
  }
  // The handler logs JSON through Powertools; locally one line per request (below) is enough
  // unless --verbose. An explicit POWERTOOLS_LOG_LEVEL wins.
  process.env.POWERTOOLS_LOG_LEVEL ??= settings.verbose ? 'INFO' : 'WARN';

  const api = apiSettingsFromCdkJson(root);
  const release = releaseInfo(root);
  const log = (line: string): void => console.log(`${timestamp()} ${line}`);

  const started = Date.now();
  const stack: LocalStack = await startLocalStack({
    dataDir: settings.dataDir,
    host: settings.host,
    apiPort: settings.apiPort,
    dynamoPort: settings.dynamoPort,
    cognitoPort: settings.cognitoPort,
    version: release.version,
    commit: release.commit,
    corsAllowOrigins: api.corsAllowOrigins,
    maxBodyBytes: api.maxBodyBytes,
    log,
  });
  console.log(
    `${readyBanner(stack, {
      ...release,
      defaultDataDir: settings.dataDir === DEFAULT_DATA_DIR,
      dataDirArg: settings.dataDir,
    })}\n\n(ready in ${Date.now() - started} ms; CORS origins ${api.corsAllowOrigins.join(', ') || 'none'} and body limit ` +
      `${api.maxBodyBytes} bytes from the "${api.environment ?? 'default'}" environment in cdk.json)\n`,
  );

  // One Ctrl-C can arrive twice: the terminal signals the whole foreground process group, and
  // `npm start` forwards the signal it got to its child again. A repeat within REPEAT_WINDOW_MS is
  // that same keypress; a later one means "exit now, without waiting".
  let stoppingSince: number | undefined;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stoppingSince !== undefined) {
      if (Date.now() - stoppingSince < REPEAT_WINDOW_MS) return;
      console.error(`${signal} again: exiting without waiting.`);
      process.exit(130);
    }
    stoppingSince = Date.now();
    console.log(`\n${signal}: stopping the local stack...`);
    stack.stop().then(
      () => {
        console.log('Stopped. Data kept in', stack.dataDir);
        process.exit(0);
      },
      (err: unknown) => {
        console.error('Error while stopping:', err instanceof Error ? err.message : err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  if (err instanceof PortInUseError || err instanceof LocalStackError) {
    console.error(`error: ${err.message}`);
  } else {
    console.error('error: the local stack failed to start:', err);
  }
  process.exit(1);
});
