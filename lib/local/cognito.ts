/**
 * The local Cognito: cognito-local's own request router and HTTP server, running in this process,
 * with its state under `<dataDir>/cognito` instead of `./.cognito`.
 *
 * We assemble cognito-local's services ourselves (what its `createDefaultServer` does) for four
 * reasons: the data directory is fixed to `.cognito` there; its issuer URL is read from `PORT`/`HOST`
 * at module load, which cannot follow a port chosen at run time; its defaults load the AWS SDK v2 and
 * the KMS encryption client that only the CustomEmailSender trigger needs (slower start, more
 * memory); and its file store writes asynchronously, so two requests at once can interleave two
 * writes of the same JSON file. Our store writes synchronously through a temp file and a rename.
 *
 * We also add two checks cognito-local leaves out (see `withCognitoChecks`): the pool's password
 * policy, and each app client's allowed auth flows, so what Cognito refuses is refused here too.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import { join } from 'node:path';
import StormDB from 'stormdb';
import { CognitoError, UnsupportedError } from 'cognito-local/lib/errors';
import type { Route, Router } from 'cognito-local/lib/server/Router';
import { createServer } from 'cognito-local/lib/server/server';
import type { Config } from 'cognito-local/lib/server/config';
import type { Services } from 'cognito-local/lib/services';
import { DateClock } from 'cognito-local/lib/services/clock';
import { CognitoServiceFactoryImpl, type CognitoService } from 'cognito-local/lib/services/cognitoService';
import type { Context as CognitoContext } from 'cognito-local/lib/services/context';
import type { CryptoService } from 'cognito-local/lib/services/crypto';
import { StormDBDataStore } from 'cognito-local/lib/services/dataStore/stormDb';
import type { DataStore } from 'cognito-local/lib/services/dataStore/dataStore';
import type { DataStoreFactory } from 'cognito-local/lib/services/dataStore/factory';
import { LambdaService } from 'cognito-local/lib/services/lambda';
import type { LogService } from 'cognito-local/lib/services/LogService';
import { MessageDeliveryService } from 'cognito-local/lib/services/messageDelivery/messageDelivery';
import type { MessageSender } from 'cognito-local/lib/services/messageDelivery/messageSender';
import { MessagesService, type Message } from 'cognito-local/lib/services/messages';
import { otp } from 'cognito-local/lib/services/otp';
import { JwtTokenGenerator, type TokenConfig } from 'cognito-local/lib/services/tokenGenerator';
import { TriggersService } from 'cognito-local/lib/services/triggers';
import { UserPoolServiceFactoryImpl } from 'cognito-local/lib/services/userPoolService';
import { closeServer, explainListenError, httpUrl } from './net';

export interface LocalCognito {
  /** `http://host:port`: the endpoint for the Cognito SDK/CLI and the token issuer's domain. */
  endpoint: string;
  /** Calls a Cognito API action in-process (same code path as an HTTP request, no HTTP). */
  call<T>(action: string, request: object): Promise<T>;
  stop(): Promise<void>;
}

/** A StormDB engine that reads once and writes the whole file synchronously and atomically. */
class AtomicJsonFileEngine {
  constructor(private readonly path: string) {}

  init(): object {
    if (!existsSync(this.path)) {
      this.write({});
      return {};
    }
    return this.read();
  }

  read(): object {
    const text = readFileSync(this.path, 'utf8');
    try {
      return text.trim() === '' ? {} : (JSON.parse(text, reviveDates) as object);
    } catch {
      throw new Error(`The local Cognito data file ${this.path} is not valid JSON; delete it to start afresh.`);
    }
  }

  write(data: unknown): null {
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(data, datesToIso, 2));
    renameSync(tmp, this.path);
    return null;
  }
}

// cognito-local keeps `...Date` fields as Date objects in memory and ISO strings on disk.
function datesToIso(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  return key.endsWith('Date') && raw instanceof Date ? raw.toISOString() : value;
}

function reviveDates(key: string, value: unknown): unknown {
  if (!key.endsWith('Date')) return value;
  if (typeof value === 'string' || typeof value === 'number') return new Date(value);
  return value;
}

class AtomicDataStoreFactory implements DataStoreFactory {
  constructor(private readonly directory: string) {}

  async create(_ctx: CognitoContext, id: string, defaults: object): Promise<DataStore> {
    mkdirSync(this.directory, { recursive: true });
    const db = new StormDB(new AtomicJsonFileEngine(join(this.directory, `${id}.json`)));
    db.default(defaults);
    await db.save();
    return new StormDBDataStore(db);
  }
}

/** Delivers verification codes as one log line instead of cognito-local's console box. */
class LogMessageSender implements MessageSender {
  constructor(private readonly log: (line: string) => void) {}

  async sendEmail(_ctx: CognitoContext, _user: unknown, destination: string, message: Message): Promise<void> {
    this.log(`[cognito] email to ${destination}: code ${message.__code ?? '(none)'}`);
  }

  async sendSms(_ctx: CognitoContext, _user: unknown, destination: string, message: Message): Promise<void> {
    this.log(`[cognito] SMS to ${destination}: code ${message.__code ?? '(none)'}`);
  }
}

/**
 * cognito-local logs through pino (and pino-http). We use the pino it depends on, resolved from
 * cognito-local's own location, writing warnings and errors to our log function.
 */
function createCognitoLogger(log: (line: string) => void, level: string): LogService {
  const requireFromCognitoLocal = createRequire(require.resolve('cognito-local/package.json'));
  const pino = requireFromCognitoLocal('pino') as (opts: object, stream: { write(s: string): void }) => LogService;
  return pino(
    { level, base: null, timestamp: false },
    {
      write(s: string): void {
        try {
          const entry = JSON.parse(s) as { msg?: string; err?: { message?: string } };
          log(`[cognito] ${entry.msg ?? ''}${entry.err?.message ? `: ${entry.err.message}` : ''}`);
        } catch {
          log(`[cognito] ${s.trim()}`);
        }
      },
    },
  );
}

interface PasswordPolicy {
  MinimumLength?: number;
  RequireUppercase?: boolean;
  RequireLowercase?: boolean;
  RequireNumbers?: boolean;
  RequireSymbols?: boolean;
}

/** Cognito's message for a password that breaks the policy, or undefined when it is fine. */
export function passwordPolicyViolation(password: string, policy: PasswordPolicy | undefined): string | undefined {
  if (!policy) return undefined;
  const problems: string[] = [];
  if (policy.MinimumLength && password.length < policy.MinimumLength) problems.push('Password not long enough');
  if (policy.RequireUppercase && !/[A-Z]/.test(password)) problems.push('Password must have uppercase characters');
  if (policy.RequireLowercase && !/[a-z]/.test(password)) problems.push('Password must have lowercase characters');
  if (policy.RequireNumbers && !/[0-9]/.test(password)) problems.push('Password must have numeric characters');
  if (policy.RequireSymbols && !/[\^$*.[\]{}()?"!@#%&/\\,><':;|_~`=+\- ]/.test(password)) {
    problems.push('Password must have symbol characters');
  }
  return problems.length > 0 ? `Password did not conform with policy: ${problems.join('; ')}` : undefined;
}

/** Which field carries the new password, and how the pool is found, for each password-setting action. */
const PASSWORD_ACTIONS: Record<string, { password: string; pool: 'ClientId' | 'UserPoolId' }> = {
  SignUp: { password: 'Password', pool: 'ClientId' },
  ConfirmForgotPassword: { password: 'Password', pool: 'ClientId' },
  AdminSetUserPassword: { password: 'Password', pool: 'UserPoolId' },
  AdminCreateUser: { password: 'TemporaryPassword', pool: 'UserPoolId' },
};

/** The API actions cognito-local implements (its `Targets` table). */
const TARGETS = [
  'AddCustomAttributes', 'AssociateSoftwareToken', 'AdminAddUserToGroup', 'AdminConfirmSignUp', 'AdminCreateUser',
  'AdminDeleteUser', 'AdminDeleteUserAttributes', 'AdminDisableUser', 'AdminEnableUser', 'AdminGetUser',
  'AdminInitiateAuth', 'AdminListGroupsForUser', 'AdminRemoveUserFromGroup', 'AdminSetUserPassword',
  'AdminUpdateUserAttributes', 'ChangePassword', 'ConfirmForgotPassword', 'ConfirmSignUp', 'CreateGroup',
  'CreateUserPool', 'CreateUserPoolClient', 'DeleteGroup', 'DeleteUser', 'DeleteUserAttributes', 'DeleteUserPool',
  'DeleteUserPoolClient', 'DescribeUserPool', 'DescribeUserPoolClient', 'ForgotPassword', 'GetGroup', 'GetUser',
  'GetUserAttributeVerificationCode', 'GetUserPoolMfaConfig', 'InitiateAuth', 'ListGroups', 'ListUserPoolClients',
  'ListUserPools', 'ListUsers', 'ListUsersInGroup', 'RespondToAuthChallenge', 'RevokeToken', 'SetUserMFAPreference',
  'SetUserPoolMfaConfig', 'SignUp', 'UpdateGroup', 'UpdateUserAttributes', 'UpdateUserPool', 'UpdateUserPoolClient',
  'VerifySoftwareToken', 'VerifyUserAttribute',
] as const;
const SUPPORTED: ReadonlySet<string> = new Set(TARGETS);

type TargetFactory = (services: Services) => Route;

/**
 * cognito-local's router, with each action's module loaded on its first use. Its own `Router`
 * loads all fifty at once, and three of them (the TOTP ones) pull in an ES-module-only package
 * that Jest's CommonJS runtime cannot load; loading on demand keeps the stack usable in Jest
 * and trims the start-up.
 */
function lazyRouter(services: Services): Router {
  const cache = new Map<string, Promise<Route>>();
  const load = (target: string): Promise<Route> => {
    let route = cache.get(target);
    if (!route) {
      const file = target.charAt(0).toLowerCase() + target.slice(1);
      route = import(`cognito-local/lib/targets/${file}`).then((m: Record<string, TargetFactory>) => m[target](services));
      cache.set(target, route);
    }
    return route;
  };
  return (target: string): Route => {
    if (!SUPPORTED.has(target)) {
      return () => Promise.reject(new UnsupportedError(`Unsupported x-amz-target header "${target}"`));
    }
    return async (ctx, req) => (await load(target))({ ...ctx, logger: ctx.logger.child({ target }) }, req);
  };
}

/** The app-client setting each auth flow needs, as Cognito checks it (cognito-local does not). */
const FLOW_SETTING: Record<string, string> = {
  USER_PASSWORD_AUTH: 'ALLOW_USER_PASSWORD_AUTH',
  ADMIN_USER_PASSWORD_AUTH: 'ALLOW_ADMIN_USER_PASSWORD_AUTH',
  ADMIN_NO_SRP_AUTH: 'ALLOW_ADMIN_USER_PASSWORD_AUTH',
  USER_SRP_AUTH: 'ALLOW_USER_SRP_AUTH',
  REFRESH_TOKEN_AUTH: 'ALLOW_REFRESH_TOKEN_AUTH',
  REFRESH_TOKEN: 'ALLOW_REFRESH_TOKEN_AUTH',
};

/**
 * Adds two checks Cognito makes and cognito-local does not: the pool's password policy on every
 * call that sets a password, and the app client's allowed auth flows on InitiateAuth and
 * AdminInitiateAuth (so the smoke client accepts only admin user-password auth, as deployed).
 */
function withCognitoChecks(base: Router, cognito: CognitoService): Router {
  return (target: string): Route => {
    const route = base(target);
    if (target === 'InitiateAuth' || target === 'AdminInitiateAuth') {
      return async (ctx, req: Record<string, unknown>) => {
        const flow = typeof req?.AuthFlow === 'string' ? req.AuthFlow : '';
        const clientId = typeof req?.ClientId === 'string' ? req.ClientId : '';
        const client = clientId ? await cognito.getAppClient(ctx, clientId) : null;
        const needed = FLOW_SETTING[flow];
        if (client?.ExplicitAuthFlows && needed && !client.ExplicitAuthFlows.includes(needed)) {
          throw new CognitoError('InvalidParameterException', `${flow} flow not enabled for this client`);
        }
        try {
          return await route(ctx, req);
        } catch (err) {
          // Cognito answers a wrong password with NotAuthorizedException, never InvalidPasswordException.
          if (err instanceof CognitoError && err.code === 'InvalidPasswordException') {
            throw new CognitoError('NotAuthorizedException', 'Incorrect username or password.');
          }
          throw err;
        }
      };
    }
    const spec = PASSWORD_ACTIONS[target];
    if (!spec) return route;
    return async (ctx, req: Record<string, unknown>) => {
      const password = req?.[spec.password];
      const poolKey = req?.[spec.pool];
      if (typeof password === 'string' && typeof poolKey === 'string') {
        const pool =
          spec.pool === 'ClientId'
            ? await cognito.getUserPoolForClientId(ctx, poolKey)
            : await cognito.getUserPool(ctx, poolKey);
        const problem = passwordPolicyViolation(password, pool.options.Policies?.PasswordPolicy);
        if (problem) throw new CognitoError('InvalidPasswordException', problem);
      }
      return route(ctx, req);
    };
  };
}

/** A CryptoService stand-in: only the CustomEmailSender trigger (KMS) would use it, and we configure no triggers. */
const noKms: Pick<CryptoService, 'encrypt' | 'keyringNode'> = {
  get keyringNode(): never {
    throw new Error('KMS is not available in local mode');
  },
  async encrypt(): Promise<string> {
    throw new Error('KMS is not available in local mode');
  },
};

export async function startLocalCognito(opts: {
  directory: string;
  host: string;
  port: number;
  log: (line: string) => void;
  logLevel?: string;
}): Promise<LocalCognito> {
  mkdirSync(join(opts.directory, 'db'), { recursive: true });
  const logger = createCognitoLogger(opts.log, opts.logLevel ?? 'error');
  const ctx: CognitoContext = { logger };

  // The issuer domain is filled in once the port is known (port 0 = chosen by the OS); the
  // token generator reads it on every token it signs.
  const tokenConfig: TokenConfig = { IssuerDomain: undefined };
  const config: Config = {
    LambdaClient: {},
    TriggerFunctions: {},
    UserPoolDefaults: { UsernameAttributes: ['email'] },
    TokenConfig: tokenConfig,
    KMSConfig: {},
    ServerConfig: { port: opts.port, hostname: opts.host, development: false, https: false },
  };

  const dataDirectory = join(opts.directory, 'db');
  const clock = new DateClock();
  const dataStoreFactory = new AtomicDataStoreFactory(dataDirectory);
  const cognito = await new CognitoServiceFactoryImpl(
    dataDirectory,
    dataStoreFactory,
    new UserPoolServiceFactoryImpl(clock, dataStoreFactory),
  ).create(ctx, config.UserPoolDefaults);
  const triggers = new TriggersService(
    clock,
    cognito,
    new LambdaService(config.TriggerFunctions, {} as ConstructorParameters<typeof LambdaService>[1]),
    noKms as CryptoService,
  );
  const services: Services = {
    clock,
    cognito,
    config,
    messages: new MessagesService(triggers, new MessageDeliveryService(new LogMessageSender(opts.log))),
    otp,
    tokenGenerator: new JwtTokenGenerator(clock, triggers, tokenConfig),
    triggers,
  };
  const router = withCognitoChecks(lazyRouter(services), cognito);

  let server: Server;
  try {
    server = (await createServer(router, logger as Parameters<typeof createServer>[1], config.ServerConfig, services).start()) as Server;
  } catch (err) {
    throw explainListenError(err, 'Local Cognito (cognito-local)', opts.host, opts.port, '--cognito-port');
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const endpoint = httpUrl(opts.host, port);
  tokenConfig.IssuerDomain = endpoint;

  return {
    endpoint,
    async call<T>(action: string, request: object): Promise<T> {
      return (await router(action)(ctx, request)) as T;
    },
    stop: () => closeServer(server),
  };
}
