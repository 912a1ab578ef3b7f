/**
 * Restarts: what a user stored in the local mode is still there after the stack stops and
 * starts again on the same data directory; a busy port is reported by number and leaves nothing
 * half-started behind.
 */
import { createServer, type Server } from 'node:net';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalStackError, PortInUseError, startLocalStack } from '../../lib/local/stack';
import { readState, writeState } from '../../lib/local/state';
import { createUser, getIdToken } from '../../lib/local/users';
import { call, PASSWORD, tempDataDir, uniqueEmail } from './support';

interface Note {
  noteId: string;
  title: string;
}

function occupyPort(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0 });
    });
  });
}

describe('persistence across restarts', () => {
  test('notes, users, the user pool and its clients survive a stop and a start on the same data directory', async () => {
    const data = tempDataDir('persist');
    try {
      // Arrange: first run, one user, three notes.
      const first = await startLocalStack({ dataDir: data.dir });
      const email = uniqueEmail('keeper');
      const { sub } = await createUser(first, email, PASSWORD);
      const token = await getIdToken(first, email, PASSWORD);
      const written: Note[] = [];
      for (const title of ['one', 'two', 'three']) {
        const res = await call(first.apiUrl, 'POST', '/notes', { token, body: { title, content: `${title} body` } });
        written.push(res.json as Note);
      }
      const ids = { pool: first.userPoolId, client: first.clientId, smoke: first.smokeClientId };
      await first.stop();

      // Act: second run on the same directory (new ports), log in again.
      const second = await startLocalStack({ dataDir: data.dir });
      try {
        const token2 = await getIdToken(second, email, PASSWORD);
        const list = await call(second.apiUrl, 'GET', '/notes', { token: token2 });
        const one = await call(second.apiUrl, 'GET', `/notes/${written[0].noteId}`, { token: token2 });

        // Assert
        expect({ pool: second.userPoolId, client: second.clientId, smoke: second.smokeClientId }).toEqual(ids);
        expect(list.status).toBe(200);
        expect((list.json as { items: Note[] }).items.map((n) => n.title)).toEqual(['three', 'two', 'one']);
        expect(one.json).toMatchObject({ title: 'one', content: 'one body' });
        expect(readState(data.dir)?.running?.pid).toBe(process.pid);
        expect(sub).toBeTruthy();
      } finally {
        await second.stop();
      }
      expect(readState(data.dir)?.running).toBeUndefined();
      expect(readState(data.dir)?.userPoolId).toBe(ids.pool);
    } finally {
      data.remove();
    }
  });

  test('without local-stack.json the pool and clients are found again by name, not created twice', async () => {
    const data = tempDataDir('rediscover');
    try {
      const first = await startLocalStack({ dataDir: data.dir });
      const ids = [first.userPoolId, first.clientId, first.smokeClientId];
      await first.stop();
      rmSync(join(data.dir, 'local-stack.json'));

      const second = await startLocalStack({ dataDir: data.dir });
      await second.stop();

      expect([second.userPoolId, second.clientId, second.smokeClientId]).toEqual(ids);
    } finally {
      data.remove();
    }
  });

  test('the data lives under the data directory: dynamodb/, cognito/ and local-stack.json', async () => {
    const data = tempDataDir('layout');
    try {
      const stack = await startLocalStack({ dataDir: data.dir });
      await stack.stop();

      expect(['dynamodb', 'cognito', 'local-stack.json'].map((p) => existsSync(`${data.dir}/${p}`))).toEqual([true, true, true]);
    } finally {
      data.remove();
    }
  });
});

describe('ports in use', () => {
  test.each([
    ['apiPort', '--port'],
    ['dynamoPort', '--dynamo-port'],
    ['cognitoPort', '--cognito-port'],
  ] as const)('a busy %s fails with an error naming the port and %s', async (option, flag) => {
    const data = tempDataDir('busy');
    const busy = await occupyPort();
    try {
      const attempt = startLocalStack({ dataDir: data.dir, [option]: busy.port });

      await expect(attempt).rejects.toBeInstanceOf(PortInUseError);
      await expect(attempt).rejects.toThrow(new RegExp(`127\\.0\\.0\\.1:${busy.port}\\b.*${flag}`));
    } finally {
      busy.server.close();
      data.remove();
    }
  });

  test.each(['apiPort', 'dynamoPort', 'cognitoPort'] as const)('a start that fails on a busy %s releases the store: its files can be removed at once and the next start opens them', async (option) => {
    // Arrange: a first run leaves data (a LevelDB and the Cognito files) in the directory.
    const data = tempDataDir(`release-${option}`);
    const first = await startLocalStack({ dataDir: data.dir });
    await first.stop();
    const busy = await occupyPort();
    try {
      // Act: a start that fails after opening the store.
      await expect(startLocalStack({ dataDir: data.dir, [option]: busy.port })).rejects.toBeInstanceOf(PortInUseError);
      const second = await startLocalStack({ dataDir: data.dir });
      await second.stop();
      await expect(startLocalStack({ dataDir: data.dir, [option]: busy.port })).rejects.toBeInstanceOf(PortInUseError);

      // Assert: nothing writes into the directory any more (no ENOTEMPTY), and the data was intact.
      expect(second.userPoolId).toBe(first.userPoolId);
      expect(() => rmSync(data.dir, { recursive: true })).not.toThrow();
      expect(existsSync(data.dir)).toBe(false);
    } finally {
      busy.server.close();
      data.remove();
    }
  });

  test('a failed start removes the data directory it created, and only that', async () => {
    const data = tempDataDir('created');
    const dataDir = join(data.dir, 'new', 'notes');
    const busy = await occupyPort();
    try {
      await expect(startLocalStack({ dataDir, dynamoPort: busy.port })).rejects.toBeInstanceOf(PortInUseError);

      expect(existsSync(join(data.dir, 'new'))).toBe(false);
      expect(existsSync(data.dir)).toBe(true);
    } finally {
      busy.server.close();
      data.remove();
    }
  });

  test('after a failed start nothing is left holding the data directory: the next start works', async () => {
    const data = tempDataDir('retry');
    const busy = await occupyPort();
    try {
      await expect(startLocalStack({ dataDir: data.dir, apiPort: busy.port })).rejects.toBeInstanceOf(PortInUseError);

      const stack = await startLocalStack({ dataDir: data.dir });
      const health = await call(stack.apiUrl, 'GET', '/health');
      await stack.stop();

      expect(health.status).toBe(200);
    } finally {
      busy.server.close();
      data.remove();
    }
  });
});

describe('refused starts', () => {
  test('a data directory that a running stack in another live process uses is refused, naming that process and its API URL', async () => {
    // Arrange: local-stack.json says a stack runs there, in a process that is alive (Jest's parent).
    const data = tempDataDir('in-use');
    const other = { pid: process.ppid, apiUrl: 'http://127.0.0.1:3999/' };
    writeState(data.dir, {
      region: 'local',
      tableName: 'notes-local',
      running: { ...other, cognitoEndpoint: 'http://127.0.0.1:1', dynamoEndpoint: 'http://127.0.0.1:2', startedAt: new Date().toISOString() },
    });
    try {
      // Act
      const attempt = startLocalStack({ dataDir: data.dir });

      // Assert
      await expect(attempt).rejects.toBeInstanceOf(LocalStackError);
      await expect(attempt).rejects.toThrow(new RegExp(`process ${other.pid}\\b.*${other.apiUrl}`));
      expect(readState(data.dir)?.running).toMatchObject(other);
    } finally {
      data.remove();
    }
  });

  test.each([
    ['a file', (dir: string) => join(dir, 'notes.txt'), /notes\.txt is a file, not a directory/],
    ['a path through a file', (dir: string) => join(dir, 'notes.txt', 'data'), /notes\.txt\/data as the data directory: a part of that path is a file/],
  ])('a data directory that is %s is refused in one line naming the path', async (_what, pathIn, message) => {
    const data = tempDataDir('file');
    writeFileSync(join(data.dir, 'notes.txt'), 'not a directory');
    try {
      const attempt = startLocalStack({ dataDir: pathIn(data.dir) });

      await expect(attempt).rejects.toBeInstanceOf(LocalStackError);
      await expect(attempt).rejects.toThrow(message);
      expect(readFileSync(join(data.dir, 'notes.txt'), 'utf8')).toBe('not a directory');
    } finally {
      data.remove();
    }
  });

  test.each(['0.0.0.0', '192.0.2.10'])('a non-loopback host (%s) is refused before anything listens', async (host) => {
    const data = tempDataDir('host');
    try {
      const attempt = startLocalStack({ dataDir: data.dir, host });

      await expect(attempt).rejects.toBeInstanceOf(LocalStackError);
      await expect(attempt).rejects.toThrow(/loopback/);
      expect(existsSync(join(data.dir, 'local-stack.json'))).toBe(false);
    } finally {
      data.remove();
    }
  });
});
