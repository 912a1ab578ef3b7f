/**
 * Dependency faults for DynamoDB, injected at the wire: a request handler that sits where the
 * SDK's HTTP handler sits and, for a chosen share of attempts, answers with the exact HTTP
 * response DynamoDB sends when it throttles or fails (`ProvisionedThroughputExceededException`,
 * `ThrottlingException`, `InternalServerError`). Everything above it is real: the SDK's
 * deserializer turns it into the real exception class, the SDK's retry strategy decides whether
 * and when to retry, and the handler maps the final error.
 *
 * A fault can strike before the request reaches DynamoDB (nothing happened) or after (the write
 * was applied, only the answer was lost), which is what makes retries of conditional writes
 * interesting.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Readable } from 'node:stream';

export type FaultKind = 'throttle' | 'throttling' | 'internal';
export type FaultTiming = 'before' | 'after';

export interface Fault {
  kind: FaultKind;
  timing: FaultTiming;
}

/** Decides, per HTTP attempt, whether to inject a fault. `operation` is e.g. `PutItem`. */
export type FaultPlan = (attempt: { operation: string; n: number }) => Fault | undefined;

const WIRE: Record<FaultKind, { status: number; type: string; message: string }> = {
  throttle: {
    status: 400,
    type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
    message: 'The level of configured provisioned throughput for the table was exceeded.',
  },
  throttling: { status: 400, type: 'com.amazon.coral.availability#ThrottlingException', message: 'Rate of requests exceeds the allowed throughput.' },
  internal: { status: 500, type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'Internal server error' },
};

interface WireRequest {
  headers: Record<string, string>;
}
interface WireResponse {
  statusCode: number;
  reason?: string;
  headers: Record<string, string>;
  body: unknown;
}
interface WireHandler {
  handle(request: WireRequest, options?: unknown): Promise<{ response: WireResponse }>;
  destroy?(): void;
  updateHttpClientConfig?(key: never, value: never): void;
  httpHandlerConfigs?(): Record<string, unknown>;
}

export interface FaultStats {
  attempts: number;
  injected: Record<FaultKind, number>;
  injectedAfterApply: number;
  /** `$metadata.attempts` of every command that finished (success or failure), by operation. */
  commandAttempts: Array<{ operation: string; attempts: number; ok: boolean }>;
}

export function newFaultStats(): FaultStats {
  return { attempts: 0, injected: { throttle: 0, throttling: 0, internal: 0 }, injectedAfterApply: 0, commandAttempts: [] };
}

async function drain(body: unknown): Promise<void> {
  if (body && typeof (body as Readable).resume === 'function') {
    // discard: the caller never sees this answer
    await new Promise<void>((resolve, reject) => {
      (body as Readable).on('end', resolve).on('error', reject).resume();
    });
  }
}

class FaultyHandler implements WireHandler {
  private n = 0;
  constructor(
    private readonly inner: WireHandler,
    private readonly plan: () => FaultPlan,
    private readonly stats: FaultStats,
  ) {}

  async handle(request: WireRequest, options?: unknown): Promise<{ response: WireResponse }> {
    this.stats.attempts++;
    const target = request.headers['x-amz-target'] ?? request.headers['X-Amz-Target'] ?? '';
    const operation = target.split('.').pop() ?? 'unknown';
    const fault = this.plan()({ operation, n: ++this.n });
    if (!fault) return this.inner.handle(request, options);
    this.stats.injected[fault.kind]++;
    if (fault.timing === 'after') {
      const real = await this.inner.handle(request, options);
      await drain(real.response.body);
      this.stats.injectedAfterApply++;
    }
    const wire = WIRE[fault.kind];
    const body = JSON.stringify({ __type: wire.type, message: wire.message });
    return {
      response: {
        statusCode: wire.status,
        reason: wire.status === 500 ? 'Internal Server Error' : 'Bad Request',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'content-length': String(Buffer.byteLength(body)),
          'x-amzn-requestid': `FAULT${this.n}`,
        },
        body: Readable.from([Buffer.from(body)]),
      },
    };
  }

  destroy(): void {
    this.inner.destroy?.();
  }

  updateHttpClientConfig(key: never, value: never): void {
    this.inner.updateHttpClientConfig?.(key, value);
  }

  httpHandlerConfigs(): Record<string, unknown> {
    return this.inner.httpHandlerConfigs?.() ?? {};
  }
}

export interface FaultyClient {
  documentClient: DynamoDBDocumentClient;
  stats: FaultStats;
  /** Replaces the plan for the following attempts. */
  setPlan(plan: FaultPlan): void;
  destroy(): void;
}

/**
 * A DocumentClient configured like the Lambda's (`config`: region, endpoint, maxAttempts...) whose
 * HTTP layer injects faults according to the current plan (initially none).
 */
export function faultyDocumentClient(config: DynamoDBClientConfig): FaultyClient {
  const stats = newFaultStats();
  let plan: FaultPlan = () => undefined;
  // The SDK's own HTTP handler, as the client would have used it.
  const plain = new DynamoDBClient(config);
  const inner = plain.config.requestHandler as unknown as WireHandler;
  const client = new DynamoDBClient({
    ...config,
    requestHandler: new FaultyHandler(inner, () => plan, stats) as unknown as DynamoDBClientConfig['requestHandler'],
  });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = String(context.commandName ?? 'unknown').replace(/Command$/, '');
      try {
        const out = await next(args);
        stats.commandAttempts.push({ operation, attempts: (out.output as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1, ok: true });
        return out;
      } catch (err) {
        stats.commandAttempts.push({ operation, attempts: (err as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1, ok: false });
        throw err;
      }
    },
    { step: 'initialize', name: 'countAttemptsPerCommand' },
  );
  const documentClient = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return {
    documentClient,
    stats,
    setPlan: (p) => (plan = p),
    destroy: () => {
      documentClient.destroy();
      client.destroy();
      plain.destroy();
    },
  };
}

/** A plan that faults every attempt. */
export const always = (kind: FaultKind, timing: FaultTiming = 'before'): FaultPlan => () => ({ kind, timing });

/** A seeded plan that faults `rate` of all attempts with a random kind and timing. */
export function randomFaults(rate: number, seed: number): FaultPlan {
  let s = seed >>> 0 || 1;
  const rnd = (): number => {
    // xorshift32: deterministic per seed, so a failing run can be replayed
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
  const kinds: FaultKind[] = ['throttle', 'throttling', 'internal'];
  return () => {
    if (rnd() >= rate) return undefined;
    return { kind: kinds[Math.floor(rnd() * kinds.length)], timing: rnd() < 0.5 ? 'before' : 'after' };
  };
}
