/**
 * Users of the local stack's Cognito (the stack must be running: `npm start`).
 *
 *   npm run local:user -- create EMAIL PASSWORD      sign up + confirm a user
 *   npm run local:token -- EMAIL PASSWORD            print an id token (USER_PASSWORD_AUTH, web client)
 *   npm run local:user -- smoke-token EMAIL PASSWORD print an id token the way the smoke test logs in
 *                                                    (AdminInitiateAuth on the smoke client)
 *
 * Add `--data-dir DIR` (or NOTES_LOCAL_DATA_DIR) when the stack runs on another data directory.
 * Endpoints and ids come from `<dataDir>/local-stack.json`, written by the running stack.
 */
import { resolve } from 'node:path';
import { dataDirFromArgs } from '../lib/local/cli';
import { processAlive, readState, statePath } from '../lib/local/state';
import { createUser, getIdToken, getSmokeIdToken, type LocalCognitoTarget } from '../lib/local/users';

// The AWS SDK warns on every start that its 2027 releases will need Node 22. The deployed Lambda
// runs Node 22; on a developer's Node 20 the warning is noise in front of the walkthrough.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const USAGE = `Usage:
  npm run local:user -- create EMAIL PASSWORD
  npm run local:token -- EMAIL PASSWORD
  npm run local:user -- smoke-token EMAIL PASSWORD
Options: --data-dir DIR (default .notes-local, or NOTES_LOCAL_DATA_DIR)
Exit codes: 0 ok, 1 failed (stack not running, wrong password, ...), 2 usage.`;

/** A problem the user can fix (stack not running, wrong password): one line, exit 1. */
class UsageError extends Error {}

/** The command line itself is wrong: one line plus the usage, exit 2 (as the release CLI does). */
class BadUsage extends Error {}

function runningTarget(dataDir: string): LocalCognitoTarget {
  const state = readState(dataDir);
  const notRunning = `The local stack is not running on ${dataDir} (${statePath(dataDir)} names no live stack). ` +
    'Start it with `npm start` in another terminal' + (dataDir.endsWith('.notes-local') ? '.' : ' (with the same --data-dir).');
  if (!state?.running || !state.userPoolId || !state.clientId || !state.smokeClientId || !processAlive(state.running.pid)) {
    throw new UsageError(notRunning);
  }
  return {
    cognitoEndpoint: state.running.cognitoEndpoint,
    region: state.region,
    userPoolId: state.userPoolId,
    clientId: state.clientId,
    smokeClientId: state.smokeClientId,
  };
}

/** Cognito's error names turned into advice. */
function explain(err: unknown): string {
  const name = err instanceof Error ? err.name : '';
  const message = err instanceof Error ? err.message : String(err);
  switch (name) {
    case 'UsernameExistsException':
      return 'A user with this email already exists; get a token with `npm run local:token -- EMAIL PASSWORD`.';
    case 'InvalidPasswordException':
      return `${message} (at least 12 characters with upper and lower case letters, a digit and a symbol).`;
    case 'NotAuthorizedException':
    case 'UserNotFoundException':
      return 'Wrong email or password (create the user first with `npm run local:user -- create EMAIL PASSWORD`).';
    case 'InvalidParameterException':
      return message;
    default:
      if (/ECONNREFUSED|fetch failed|socket hang up/i.test(message)) {
        return 'Cannot reach the local Cognito: is `npm start` still running?';
      }
      return message;
  }
}

async function main(): Promise<void> {
  const { dataDir, rest } = dataDirFromArgs(process.argv.slice(2), process.env);
  const [command, email, password, ...extra] = rest;
  if (command === '--help' || command === '-h' || rest.includes('--help')) {
    console.log(USAGE);
    return;
  }
  if (!command) throw new BadUsage(`No command given.\n${USAGE}`);
  if (!['create', 'token', 'smoke-token'].includes(command)) throw new BadUsage(`Unknown command "${command}".\n${USAGE}`);
  if (!email || !password || extra.length > 0) throw new BadUsage(`"${command}" needs EMAIL and PASSWORD.\n${USAGE}`);

  const target = runningTarget(resolve(dataDir));
  try {
    if (command === 'create') {
      const { sub } = await createUser(target, email, password);
      // --silent keeps npm's banner out of the token when the line is pasted into $(...).
      console.log(`Created and confirmed ${email} (user id ${sub}). Get a token: TOKEN=$(npm run --silent local:token -- ${email} 'PASSWORD')`);
    } else if (command === 'token') {
      console.log(await getIdToken(target, email, password));
    } else {
      console.log(await getSmokeIdToken(target, email, password));
    }
  } catch (err) {
    throw new UsageError(explain(err));
  }
}

main().catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  if (!(err instanceof UsageError) && !(err instanceof BadUsage) && err instanceof Error && err.stack) console.error(err.stack);
  process.exit(err instanceof BadUsage ? 2 : 1);
});
