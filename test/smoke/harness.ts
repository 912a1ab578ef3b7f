/**
 * A local notes service that can be broken in one way at a time, for proving the smoke checks.
 *
 * - The LOCAL MODE (`startLocalStack`: dynalite, cognito-local, the local API Gateway with its
 *   Cognito authorizer) runs the REAL handler from `createNotesApi`, wrapped so that a test can
 *   switch on one fault (`service.fault = 'broken-update'`).
 * - Faults of the gateway's authorizer (an open endpoint, a token accepted without its signature
 *   checked) are served by a second gateway (`createGatewayListener`, the local mode's own gateway
 *   code) in front of the same handler, data and pool, with a broken authorizer.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createNotesApi } from '../../lambda/notes-api/app';
import { createLocalAuthorizer, toApiGatewayClaims, type Claims, type LocalAuthorizer } from '../../lib/local/authorizer';
import { LOCAL_CREDENTIALS } from '../../lib/local/dynamo';
import { createGatewayListener } from '../../lib/local/gateway';
import { startLocalStack, type LocalStack, type NotesHandler } from '../../lib/local/stack';
import { createSmokeUser, getSmokeIdToken } from '../../lib/local/users';
import { PASSWORD, tempDataDir, uniqueEmail } from '../local/support';

export const RELEASE_VERSION = '1.2.3';

/** Faults of the handler: each breaks the service in one way a user would notice. */
export type HandlerFault =
  | 'none'
  | 'wrong-version' // /health reports another version
  | 'slow-health' // /health answers after 400 ms
  | 'hanging-health' // /health does not answer until the test releases it
  | 'create-fails' // POST /notes -> 500
  | 'list-missing-note' // GET /notes answers 200 without the notes
  | 'get-wrong-content' // GET /notes/{id} -> 200 with other content
  | 'update-fails' // PUT /notes/{id} -> 500
  | 'update-not-persisted' // PUT -> 200 with the new content, but nothing is stored
  | 'conditional-delete-broken' // DELETE with If-Match -> 412 (unconditional DELETE still works)
  | 'delete-not-persisted'; // DELETE -> 204, but the note stays

export type GatewayFault = 'open-endpoint' | 'no-signature-check' | 'rejects-every-token';

export const SLOW_HEALTH_MS = 400;

export interface SmokeService {
  stack: LocalStack;
  /** The fault the handler serves now. */
  fault: HandlerFault;
  smokeUser: { email: string; password: string };
  /** Logs the smoke user in as the deployed Lambda does (AdminInitiateAuth on the smoke client). */
  login(): Promise<string>;
  /** An API URL with the gateway's authorizer broken in one way (real handler behind it). */
  brokenGatewayUrl(fault: GatewayFault): Promise<string>;
  /** Releases /health requests held by the `hanging-health` fault. */
  releaseHanging(): void;
  /** The smoke user's notes, read through the local API with no fault switched on. */
  smokeUserNotes(token?: string): Promise<Array<{ noteId: string; title: string }>>;
  /** Deletes every note of the smoke user (switches the fault off first). */
  purgeSmokeUserNotes(token?: string): Promise<void>;
  stop(): Promise<void>;
}

function jsonReply(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

function routeOf(event: APIGatewayProxyEvent): string {
  return `${event.httpMethod} ${event.resource}`;
}

/** Wraps the real handler with the fault currently switched on. */
function faulty(real: NotesHandler, current: () => HandlerFault, hold: () => Promise<void>): NotesHandler {
  return async (event, context) => {
    const fault = current();
    const route = routeOf(event);
    switch (`${fault} ${route}`) {
      case 'wrong-version GET /health': {
        const res = await real(event, context);
        return { ...res, body: JSON.stringify({ ...(JSON.parse(res.body) as object), version: '1.2.2' }) };
      }
      case 'slow-health GET /health':
        await new Promise((r) => setTimeout(r, SLOW_HEALTH_MS));
        return real(event, context);
      case 'hanging-health GET /health':
        await hold();
        return real(event, context);
      case 'create-fails POST /notes':
        return jsonReply(500, { error: { code: 'INTERNAL_ERROR', message: 'injected fault' } });
      case 'list-missing-note GET /notes':
        return jsonReply(200, { items: [], nextCursor: null });
      case 'get-wrong-content GET /notes/{id}': {
        const res = await real(event, context);
        if (res.statusCode !== 200) return res;
        return { ...res, body: JSON.stringify({ ...(JSON.parse(res.body) as object), title: 'someone else', content: '' }) };
      }
      case 'update-fails PUT /notes/{id}':
        return jsonReply(500, { error: { code: 'INTERNAL_ERROR', message: 'injected fault' } });
      case 'update-not-persisted PUT /notes/{id}': {
        // Answers as if the update were stored: the current note with the sent fields, version + 1.
        const current = await real({ ...event, httpMethod: 'GET', body: null }, context);
        if (current.statusCode !== 200) return current;
        const note = JSON.parse(current.body) as { version: number };
        const sent = JSON.parse(event.body ?? '{}') as object;
        const answer = { ...note, ...sent, version: note.version + 1, updatedAt: new Date().toISOString() };
        return jsonReply(200, answer, { ETag: `"${answer.version}"` });
      }
      case 'conditional-delete-broken DELETE /notes/{id}': {
        const hasIfMatch = Object.keys(event.headers ?? {}).some((h) => h.toLowerCase() === 'if-match');
        if (hasIfMatch) return jsonReply(412, { error: { code: 'PRECONDITION_FAILED', message: 'injected fault' } });
        return real(event, context);
      }
      case 'delete-not-persisted DELETE /notes/{id}':
        return { statusCode: 204, body: '' };
      default:
        return real(event, context);
    }
  };
}

function brokenAuthorizer(fault: GatewayFault, real: LocalAuthorizer): LocalAuthorizer {
  return {
    async authorize(header) {
      switch (fault) {
        case 'open-endpoint':
          // Tokenless requests get through as a made-up user; tokens are still checked.
          return header ? real.authorize(header) : { sub: 'anonymous-through-open-endpoint' };
        case 'no-signature-check': {
          // Reads the claims of any well-formed JWT without verifying its signature.
          if (!header) return undefined;
          try {
            const payload = JSON.parse(Buffer.from(header.replace(/^Bearer\s+/i, '').split('.')[1], 'base64url').toString('utf8'));
            return toApiGatewayClaims(payload) as Claims;
          } catch {
            return undefined;
          }
        }
        case 'rejects-every-token':
          return undefined;
      }
    },
  };
}

function listenLoopback(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`));
  });
}

export async function startSmokeService(label: string): Promise<SmokeService> {
  const data = tempDataDir(`smoke-${label}`);
  let fault: HandlerFault = 'none';
  // The real handler needs the stack's DynamoDB, so it is built once the stack is up.
  const built: { real?: NotesHandler } = {};
  let release: () => void = () => undefined;
  let held = new Promise<void>((r) => (release = r));
  const hold = (): Promise<void> => held;
  const realHandler: NotesHandler = (event, context) => {
    if (!built.real) throw new Error('handler not ready');
    return built.real(event, context);
  };
  const handler = faulty(realHandler, () => fault, hold);

  const stack = await startLocalStack({ dataDir: data.dir, handler, version: RELEASE_VERSION, commit: 'abc1234' });
  const client = new DynamoDBClient({ endpoint: stack.dynamoEndpoint, region: stack.region, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  const documentClient = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  built.real = createNotesApi({ documentClient, tableName: stack.tableName, version: RELEASE_VERSION, commit: 'abc1234' });

  const smokeUser = { email: uniqueEmail('smoke'), password: PASSWORD };
  await createSmokeUser(stack, smokeUser.email, smokeUser.password);
  const realAuthorizer = createLocalAuthorizer({ issuer: stack.issuer, clientIds: [stack.clientId, stack.smokeClientId] });

  const gateways = new Map<GatewayFault, { server: Server; url: string }>();

  const service: SmokeService = {
    stack,
    get fault() {
      return fault;
    },
    set fault(value: HandlerFault) {
      fault = value;
    },
    smokeUser,
    login: () => getSmokeIdToken(stack, smokeUser.email, smokeUser.password),
    async brokenGatewayUrl(gatewayFault) {
      const existing = gateways.get(gatewayFault);
      if (existing) return existing.url;
      const server = createServer(
        createGatewayListener({
          handler: () => handler,
          authorizer: () => brokenAuthorizer(gatewayFault, realAuthorizer),
          maxBodyBytes: 262_144,
          corsAllowOrigins: [],
          log: () => undefined,
        }),
      );
      const url = await listenLoopback(server);
      gateways.set(gatewayFault, { server, url });
      return url;
    },
    releaseHanging() {
      release();
      held = new Promise<void>((r) => (release = r));
    },
    async smokeUserNotes(token?: string) {
      token ??= await service.login();
      const res = await fetch(new URL('notes?limit=100', stack.apiUrl), { headers: { Authorization: token } });
      if (fault !== 'none' || res.status !== 200) throw new Error(`smokeUserNotes: fault ${fault}, status ${res.status}`);
      return ((await res.json()) as { items: Array<{ noteId: string; title: string }> }).items;
    },
    async purgeSmokeUserNotes(token?: string) {
      fault = 'none';
      token ??= await service.login();
      for (const n of await service.smokeUserNotes(token)) {
        await fetch(new URL(`notes/${n.noteId}`, stack.apiUrl), { method: 'DELETE', headers: { Authorization: token } });
      }
    },
    async stop() {
      release();
      for (const { server } of gateways.values()) {
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
      }
      documentClient.destroy();
      client.destroy();
      await stack.stop();
      data.remove();
    },
  };
  return service;
}
