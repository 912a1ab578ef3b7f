/**
 * Forged and broken bearer tokens, derived from a real id token so that they look plausible:
 * same `kid`, same issuer and audience, only the part an attacker controls is changed.
 * Every one of them must be refused by the authorizer (401), whatever route it is sent to.
 */
import { createHmac, createSign, generateKeyPairSync } from 'node:crypto';

const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

function decodePart(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [h, p] = token.split('.');
  return { header: decodePart(h), payload: decodePart(p) };
}

export interface ForgedToken {
  name: string;
  token: string;
}

/**
 * `attacker` is a valid token of the attacker; `victimSub` the `sub` they want to impersonate.
 */
export function forgedTokens(attacker: string, victimSub: string): ForgedToken[] {
  const [h, p, s] = attacker.split('.');
  const { header, payload } = decodeJwt(attacker);
  const stolenClaims = { ...payload, sub: victimSub };
  const farFuture = { ...payload, exp: Math.floor(Date.now() / 1000) + 10 * 365 * 24 * 3600 };
  const expired = { ...payload, iat: 1_000_000_000, exp: 1_000_000_100 };

  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rs256 = (hdr: Record<string, unknown>, claims: Record<string, unknown>): string => {
    const signingInput = `${b64url(JSON.stringify(hdr))}.${b64url(JSON.stringify(claims))}`;
    const sig = createSign('RSA-SHA256').update(signingInput).sign(privateKey);
    return `${signingInput}.${b64url(sig)}`;
  };
  const hs256 = (secret: string, claims: Record<string, unknown>): string => {
    const hdr = { ...header, alg: 'HS256' };
    const signingInput = `${b64url(JSON.stringify(hdr))}.${b64url(JSON.stringify(claims))}`;
    return `${signingInput}.${b64url(createHmac('sha256', secret).update(signingInput).digest())}`;
  };

  return [
    { name: 'alg none, victim sub', token: `${b64url(JSON.stringify({ ...header, alg: 'none' }))}.${b64url(JSON.stringify(stolenClaims))}.` },
    { name: 'payload swapped, original signature', token: `${h}.${b64url(JSON.stringify(stolenClaims))}.${s}` },
    { name: 'lifetime extended, original signature', token: `${h}.${b64url(JSON.stringify(farFuture))}.${s}` },
    { name: 'signed by a foreign RSA key with the real kid', token: rs256(header, stolenClaims) },
    { name: 'expired, signed by a foreign key', token: rs256(header, expired) },
    { name: 'HS256 with a guessed secret', token: hs256('secret', stolenClaims) },
    { name: 'signature stripped', token: `${h}.${p}.` },
    { name: 'signature truncated', token: `${h}.${p}.${s.slice(0, -4)}` },
    { name: 'signature of another token', token: `${h}.${p}.${b64url(Buffer.from(s, 'base64url').reverse())}` },
    { name: 'two segments', token: `${h}.${p}` },
    { name: 'four segments', token: `${attacker}.${s}` },
    { name: 'empty', token: '' },
  ];
}
