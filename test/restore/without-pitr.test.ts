/**
 * The restore tool against a real DynamoDB endpoint that lacks the point-in-time recovery APIs
 * (dynalite, what the local mode runs): the error names the call that failed, not "UnknownError".
 */
import { RunningDynalite, startDynalite } from '../support/dynalite';
import { runRestore } from '../../lib/restore/main';
import { captureIo } from '../cli/support';

let db: RunningDynalite;

beforeAll(async () => {
  db = await startDynalite();
});
afterAll(async () => {
  await db?.stop();
});

test('an endpoint without DescribeContinuousBackups fails with exit 1, naming that call and what restore needs', async () => {
  // Arrange: a real table on dynalite.
  const source = await db.createNotesTable();
  const io = captureIo();

  // Act
  const code = await runRestore(['--source-table', source, '--to-time', '2026-11-24T10:15:00Z', '--region', 'local', '--yes'], io, {
    dynamodb: db.client,
    env: {},
  });

  // Assert
  expect(code).toBe(1);
  expect(io.stderr[0]).toBe('error: DynamoDB DescribeContinuousBackups failed in local: the endpoint does not implement it (UnknownOperationException).');
  expect(io.stderr[1]).toMatch(/^hint: Point-in-time restore needs DynamoDB itself\. A local endpoint such as dynalite/);
  expect(io.stderr.join('\n')).not.toMatch(/: UnknownError$/m);
  expect(io.stdout).toEqual([]);
});

test('--json puts that error on stdout as JSON', async () => {
  const source = await db.createNotesTable();
  const io = captureIo();

  const code = await runRestore(['--source-table', source, '--to-time', '2026-11-24T10:15:00Z', '--region', 'local', '--yes', '--json'], io, {
    dynamodb: db.client,
    env: {},
  });

  expect(code).toBe(1);
  expect(JSON.parse(io.stdout.join('\n'))).toMatchObject({
    error: { code: 'FAILED', exitCode: 1, message: expect.stringContaining('DescribeContinuousBackups failed') },
  });
});
