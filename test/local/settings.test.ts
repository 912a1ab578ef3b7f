/** Local-mode settings: flags over environment over defaults; bad values refused with a clear message. */
import { apiSettingsFromCdkJson, DEFAULT_PORTS, parseLocalArgs } from '../../lib/local/cli';
import { resolve } from 'node:path';

test('without flags or environment the documented defaults apply', () => {
  const s = parseLocalArgs([], {});

  expect(s).toMatchObject({ apiPort: DEFAULT_PORTS.api, dynamoPort: 8000, cognitoPort: 9229, dataDir: '.notes-local', host: '127.0.0.1' });
});

test('environment variables override the defaults and flags override the environment', () => {
  const env = { NOTES_LOCAL_PORT: '4000', NOTES_LOCAL_DATA_DIR: '/tmp/env-dir', NOTES_LOCAL_COGNITO_PORT: '9300' };

  const s = parseLocalArgs(['--port', '5000', '--dynamo-port', '0'], env);

  expect(s).toMatchObject({ apiPort: 5000, dynamoPort: 0, cognitoPort: 9300, dataDir: '/tmp/env-dir' });
});

test.each([['--port', 'abc'], ['--dynamo-port', '70000'], ['--cognito-port', '1.5']])('%s %s is refused naming the flag', (flag, value) => {
  expect(() => parseLocalArgs([flag, value], {})).toThrow(new RegExp(`${flag} must be a port number`));
});

test('an unknown flag is refused with the usage text', () => {
  expect(() => parseLocalArgs(['--prot', '3000'], {})).toThrow(/Usage: npm start/);
});

test('the API limits come from the first pre-production environment in cdk.json', () => {
  const api = apiSettingsFromCdkJson(resolve(__dirname, '..', '..'));

  expect(api.environment).toBe('dev');
  expect(api.maxBodyBytes).toBeGreaterThanOrEqual(1024);
  expect(Array.isArray(api.corsAllowOrigins)).toBe(true);
});
