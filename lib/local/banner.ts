/**
 * What `npm start` prints once the local stack is ready: where everything is, and a copy-paste
 * walkthrough from "no user" to "a note created and listed".
 */
import type { LocalStack } from './stack';

export const EXAMPLE_EMAIL = 'me@example.com';
/** Satisfies the pool's policy (12+ characters, upper, lower, digit, symbol). */
export const EXAMPLE_PASSWORD = 'Correct-Horse-42';

export function readyBanner(stack: LocalStack, extra: { version: string; commit: string; defaultDataDir: boolean; dataDirArg: string }): string {
  const api = stack.apiUrl.replace(/\/$/, '');
  const dd = extra.defaultDataDir ? '' : ` --data-dir ${extra.dataDirArg}`;
  return [
    `Notes API ${extra.version} (${extra.commit}) is running locally.`,
    '',
    `  API URL          ${stack.apiUrl}`,
    `  Cognito          ${stack.cognitoEndpoint}`,
    `    user pool      ${stack.userPoolId}`,
    `    app client     ${stack.clientId}`,
    `    smoke client   ${stack.smokeClientId}`,
    `  DynamoDB         ${stack.dynamoEndpoint}  (table ${stack.tableName})`,
    `  Data directory   ${stack.dataDir}  (kept across restarts; delete it to start afresh)`,
    '',
    'Try it from another terminal:',
    '',
    `  npm run local:user -- create ${EXAMPLE_EMAIL} '${EXAMPLE_PASSWORD}'${dd}`,
    `  TOKEN=$(npm run --silent local:token -- ${EXAMPLE_EMAIL} '${EXAMPLE_PASSWORD}'${dd})`,
    `  curl -s -X POST ${api}/notes -H "Authorization: Bearer $TOKEN" \\`,
    `       -H 'Content-Type: application/json' -d '{"title":"First note","content":"Hello","tags":["demo"]}'`,
    `  curl -s ${api}/notes -H "Authorization: Bearer $TOKEN"`,
    '',
    'The AWS CLI and SDKs work against the local endpoints (any credentials, region "local"):',
    '',
    `  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws dynamodb scan --table-name ${stack.tableName} \\`,
    `       --endpoint-url ${stack.dynamoEndpoint} --region ${stack.region}`,
    '',
    'Ctrl-C stops everything; your notes and users stay.',
  ].join('\n');
}
