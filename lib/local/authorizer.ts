/**
 * The local stand-in for API Gateway's Cognito user-pool authorizer.
 *
 * Like the real one it reads the `Authorization` header (the raw id token, or `Bearer <token>`),
 * verifies the JWT's signature against the issuer's JWKS, its issuer, audience (one of the pool's
 * app clients), expiry and `token_use: id`, and hands the claims to the integration as strings at
 * `requestContext.authorizer.claims`.
 *
 * `CognitoJwtVerifier` only accepts real Cognito pool ids and `https://cognito-idp...` issuers, so
 * we use aws-jwt-verify's generic `JwtVerifier` pointed at cognito-local's issuer and JWKS. Its
 * built-in fetcher speaks HTTPS only; cognito-local serves plain HTTP on loopback, so the JWKS is
 * fetched with a small HTTP fetcher.
 *
 * Like API Gateway (an authorizer's `AuthorizerResultTtlInSeconds` defaults to 300 s, and the
 * stack leaves it at that), a verified token's claims are cached, keyed on the whole token, for
 * 300 s but never past the token's `exp`. Only tokens that verified are cached, so a forged,
 * tampered, expired or not-yet-valid token is verified (and refused) every time; a cached token
 * stops being accepted at its `exp`, exactly when the verifier would start refusing it.
 */
import { JwtVerifier } from 'aws-jwt-verify';
import { NonRetryableFetchError } from 'aws-jwt-verify/error';
import type { Fetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';

export type Claims = Record<string, string>;

export interface LocalAuthorizer {
  /** The claims API Gateway would pass on, or undefined when API Gateway would answer 401. */
  authorize(authorizationHeader: string | undefined): Promise<Claims | undefined>;
}

/** Fetches the JWKS over plain HTTP (loopback only). */
const httpFetcher: Fetcher = {
  async fetch(uri: string): Promise<ArrayBuffer> {
    const res = await fetch(uri, { signal: AbortSignal.timeout(3000) });
    if (res.status !== 200) throw new NonRetryableFetchError(uri, `Status code is ${res.status}, expected 200`);
    return res.arrayBuffer();
  },
};

/** API Gateway's default authorizer result TTL (`AuthorizerResultTtlInSeconds` unset). */
export const AUTHORIZER_CACHE_TTL_MS = 300_000;
/** Tokens kept at most; the oldest goes first (a client signing in again gets a new token). */
export const AUTHORIZER_CACHE_MAX_TOKENS = 1_000;

export function createLocalAuthorizer(opts: { issuer: string; clientIds: string[] }): LocalAuthorizer {
  const verifier = JwtVerifier.create(
    {
      issuer: opts.issuer,
      jwksUri: `${opts.issuer}/.well-known/jwks.json`,
      audience: opts.clientIds,
      customJwtCheck: ({ payload }) => {
        if (payload.token_use !== 'id') throw new Error('not an id token');
      },
    },
    { jwksCache: new SimpleJwksCache({ fetcher: httpFetcher }) },
  );

  const cache = new Map<string, { claims: Claims; until: number }>();

  return {
    async authorize(header) {
      const token = extractToken(header);
      if (!token) return undefined;
      const hit = cache.get(token);
      if (hit) {
        if (Date.now() <= hit.until) return { ...hit.claims };
        cache.delete(token);
      }
      let payload: JwtPayload;
      try {
        payload = await verifier.verify(token);
      } catch {
        return undefined;
      }
      const claims = toApiGatewayClaims(payload);
      // The verifier accepts a token while now <= exp (seconds); so does the cache.
      const expiresAt = typeof payload.exp === 'number' ? payload.exp * 1000 : Infinity;
      if (cache.size >= AUTHORIZER_CACHE_MAX_TOKENS) cache.delete(cache.keys().next().value as string);
      cache.set(token, { claims, until: Math.min(Date.now() + AUTHORIZER_CACHE_TTL_MS, expiresAt) });
      return { ...claims };
    },
  };
}

/** API Gateway takes the header value as the token; a `Bearer ` prefix is tolerated. */
export function extractToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const value = header.trim().replace(/^Bearer\s+/i, '');
  return value.length > 0 ? value : undefined;
}

/**
 * Claims as API Gateway's REST authorizer passes them: every value a string, `exp` and `iat`
 * rendered as dates (`Tue Nov 24 09:56:22 UTC 2026`), other numbers and booleans as their text.
 */
export function toApiGatewayClaims(payload: JwtPayload): Claims {
  const claims: Claims = {};
  for (const [name, value] of Object.entries(payload)) {
    if (value === undefined || value === null) continue;
    if ((name === 'exp' || name === 'iat') && typeof value === 'number') claims[name] = gatewayDate(value);
    else if (Array.isArray(value)) claims[name] = value.map(String).join(',');
    else if (typeof value === 'object') claims[name] = JSON.stringify(value);
    else claims[name] = String(value);
  }
  return claims;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function gatewayDate(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`
  );
}
