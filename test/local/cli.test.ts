/**
 * `npm start` and `npm run local:user` as a user runs them: real child processes, real ports.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { call, PASSWORD, tempDataDir, uniqueEmail } from './support';

const root = resolve(__dirname, '..', '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const run = promisify(execFile);

interface Started {
  child: ChildProcess;
  apiUrl: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Spawns `tsx bin/local.ts ARGS` and waits for the printed API URL. */
function startCli(args: string[]): Promise<Started> {
  const child = spawn(tsx, ['bin/local.ts', ...args], { cwd: root, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => reject(new Error(`no API URL printed within 30 s:\n${out}\n${err}`)), 30_000);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /API URL\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveStart({ child, apiUrl: m[1], stdout: () => out, stderr: () => err, exited });
      }
    });
    child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`local stack exited with ${code} before printing the API URL:\n${out}\n${err}`));
    });
  });
}

async function localUser(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(tsx, ['bin/local-user.ts', ...args], { cwd: root, env: process.env });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

describe('npm start (bin/local.ts) as a child process', () => {
  test('prints the API URL and walkthrough, serves /health, works with local:user, and exits 0 on SIGINT', async () => {
    const data = tempDataDir('cli');
    try {
      const started = await startCli(['--port', '0', '--dynamo-port', '0', '--cognito-port', '0', '--data-dir', data.dir]);

      const health = await call(started.apiUrl, 'GET', '/health');
      const email = uniqueEmail('cli');
      const created = await localUser(['create', email, PASSWORD, '--data-dir', data.dir]);
      const token = await localUser(['token', email, PASSWORD, '--data-dir', data.dir]);
      const list = await call(started.apiUrl, 'GET', '/notes', { token: token.stdout.trim() });
      started.child.kill('SIGINT');
      const code = await started.exited;

      expect(health.status).toBe(200);
      expect(started.stdout()).toMatch(/user pool\s+local_\w+/);
      expect(started.stdout()).toContain('npm run local:user -- create');
      expect(created.code).toBe(0);
      // The hint pastes into $(...) as is: --silent keeps npm's banner out of the token.
      expect(created.stdout).toContain(`Get a token: TOKEN=$(npm run --silent local:token -- ${email} 'PASSWORD')`);
      expect(token.code).toBe(0);
      expect(token.stdout.trim().split('.')).toHaveLength(3);
      expect(list.status).toBe(200);
      expect(code).toBe(0);
      expect(started.stdout()).toContain('Stopped.');
    } finally {
      data.remove();
    }
  });

  test('a port in use stops it with exit code 1 and a one-line error naming the port, no stack trace', async () => {
    const data = tempDataDir('cli-busy');
    const busy: Server = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as { port: number }).port;
    try {
      const child = spawn(tsx, ['bin/local.ts', '--port', String(port), '--dynamo-port', '0', '--cognito-port', '0', '--data-dir', data.dir], {
        cwd: root,
        env: process.env,
      });
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));

      expect(code).toBe(1);
      expect(err).toContain(`127.0.0.1:${port}`);
      expect(err).toContain('--port');
      expect(err).not.toMatch(/^\s+at /m);
    } finally {
      busy.close();
      data.remove();
    }
  });
});

describe('npm start as a user runs it: npm and the stack in one process group', () => {
  test('Ctrl-C (SIGINT to the whole group, as a terminal sends it) stops cleanly and npm reports exit code 0', async () => {
    const data = tempDataDir('npm-sigint');
    try {
      // Arrange: `npm start` in a process group of its own, like a foreground job in a terminal.
      const child = spawn('npm', ['start', '--', '--port', '0', '--dynamo-port', '0', '--cognito-port', '0', '--data-dir', data.dir], {
        cwd: root,
        env: process.env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
      const apiUrl = await new Promise<string>((resolveUrl, reject) => {
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /API URL\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
          if (m) resolveUrl(m[1]);
        });
        void exited.then(({ code }) => reject(new Error(`npm start exited with ${code} before printing the API URL:\n${out}`)));
      });
      const health = await call(apiUrl, 'GET', '/health');

      // Act: the terminal's Ctrl-C.
      process.kill(-(child.pid as number), 'SIGINT');
      const result = await exited;

      // Assert
      expect(health.status).toBe(200);
      expect(result).toEqual({ code: 0, signal: null });
      expect(out).toContain('Stopped. Data kept in');
      expect(out).not.toContain('again: exiting without waiting');
    } finally {
      data.remove();
    }
  });

  test('--data-dir naming a file stops it with exit code 1 and one line naming the path, no stack trace', async () => {
    const data = tempDataDir('cli-file');
    const file = join(data.dir, 'notes.txt');
    writeFileSync(file, 'a file');
    try {
      const child = spawn(tsx, ['bin/local.ts', '--port', '0', '--dynamo-port', '0', '--cognito-port', '0', '--data-dir', file], { cwd: root, env: process.env });
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));

      expect(code).toBe(1);
      expect(err.trim().split('\n')).toEqual([`error: The data directory ${file} is a file, not a directory. Choose another --data-dir (or move the file away).`]);
    } finally {
      data.remove();
    }
  });
});

describe('npm run local:user usage', () => {
  test.each([
    ['no command', []],
    ['an unknown command', ['frobnicate', 'a@example.com', PASSWORD]],
    ['a missing password', ['create', 'a@example.com']],
    ['a stray argument', ['token', 'a@example.com', PASSWORD, 'extra']],
  ])('%s exits 2 (usage, as the release CLI does) and prints the usage', async (_what, args) => {
    const res = await localUser(args);

    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^error: /);
    expect(res.stderr).toContain('npm run local:user -- create EMAIL PASSWORD');
    expect(res.stderr).not.toMatch(/^\s+at /m);
  });

  test('--help prints the usage and exits 0', async () => {
    const res = await localUser(['--help']);

    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Exit codes: 0 ok, 1 failed');
  });
});

describe('npm run local:user without a running stack', () => {
  test('says the local stack is not running and exits 1', async () => {
    const data = tempDataDir('cli-none');
    try {
      const res = await localUser(['token', 'nobody@example.com', PASSWORD, '--data-dir', data.dir]);

      expect(res.code).toBe(1);
      expect(res.stderr).toContain('not running');
      expect(res.stderr).toContain('npm start');
    } finally {
      data.remove();
    }
  });
});
