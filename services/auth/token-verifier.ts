import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { LRUCache } from 'lru-cache';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, type Config } from '../config.ts';
import { isRole, type Principal } from './access.ts';
import { AuthenticationError } from './errors.ts';

/**
 * Turns a bearer token into a Principal: the signature checked against the identity provider's key
 * set, then `iss`, `aud`, `exp` and `nbf` (with a small clock-skew allowance), then the claims this
 * service needs. Tokens already verified are remembered until they expire, so a client that reuses its
 * token pays for the signature once (the cache holds only what a fresh verification produced).
 */
export interface ClaimNames {
  organization: string;
  roles: string;
  warehouses: string;
  name: string;
}

export const defaultClaimNames: ClaimNames = {
  organization: 'org_id',
  roles: 'roles',
  warehouses: 'warehouses',
  name: 'name',
};

/** What the development issuer (dev-issuer.ts) writes into its tokens, and so what a JWKS file defaults to. */
export const devIssuer = 'inventory-dev-issuer';
export const devAudience = 'inventory-service';

export interface TokenVerifierOptions {
  /**
   * The key set: a JWKS URL (fetched, cached for 10 minutes, refetched at once on an unknown `kid` but at
   * most every `cooldownMs`, 30 s by default, so bad tokens cannot make it hammer the provider) or the set itself.
   */
  keys: { url: string; cooldownMs?: number } | { jwks: JSONWebKeySet };
  issuer: string;
  audience: string;
  clockToleranceSeconds: number;
  claims?: ClaimNames;
  /** Development only: accept the claims without checking the signature, issuer or audience. */
  skipSignature?: boolean;
}

export type TokenVerifier = (token: string) => Promise<Principal>;

const guid = z.guid().transform((v) => v.toLowerCase());
const algorithms = ['ES256', 'ES384', 'RS256', 'RS384', 'RS512', 'PS256', 'EdDSA'];

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const claims = options.claims ?? defaultClaimNames;
  const getKey: JWTVerifyGetKey =
    'url' in options.keys
      ? createRemoteJWKSet(new URL(options.keys.url), {
          cooldownDuration: options.keys.cooldownMs ?? 30_000,
          cacheMaxAge: 600_000,
        })
      : createLocalJWKSet(options.keys.jwks);
  const verified = new LRUCache<string, { principal: Principal; expiresAt: number }>({ max: 10_000 });

  async function payloadOf(token: string): Promise<JWTPayload> {
    if (options.skipSignature) return decodeJwt(token);
    const { payload } = await jwtVerify(token, getKey, {
      issuer: options.issuer,
      audience: options.audience,
      clockTolerance: options.clockToleranceSeconds,
      algorithms,
      requiredClaims: ['exp', 'sub'],
    });
    return payload;
  }

  return async (token) => {
    const hit = verified.get(token);
    if (hit && Date.now() < hit.expiresAt) return hit.principal;
    let payload: JWTPayload;
    try {
      payload = await payloadOf(token);
    } catch (error) {
      throw new AuthenticationError(describe(error));
    }
    const principal = principalFrom(payload, claims);
    if (payload.exp !== undefined)
      verified.set(token, { principal, expiresAt: (payload.exp + options.clockToleranceSeconds) * 1000 });
    return principal;
  };
}

function principalFrom(payload: JWTPayload, claims: ClaimNames): Principal {
  if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 200)
    throw new AuthenticationError('the token has no usable sub claim');
  const organization = guid.safeParse(payload[claims.organization]);
  if (!organization.success)
    throw new AuthenticationError(`the token's ${claims.organization} claim must be the organization's UUID`);
  const rawRoles = payload[claims.roles];
  const roles = (Array.isArray(rawRoles) ? rawRoles : typeof rawRoles === 'string' ? rawRoles.split(' ') : []).filter(
    isRole,
  );
  const rawWarehouses = payload[claims.warehouses];
  let warehouses: Principal['warehouses'] = 'all';
  if (rawWarehouses !== undefined && !(Array.isArray(rawWarehouses) && rawWarehouses.includes('*'))) {
    const ids = z.array(guid).safeParse(rawWarehouses);
    if (!ids.success)
      throw new AuthenticationError(
        `the token's ${claims.warehouses} claim must be a list of warehouse UUIDs, or ["*"]`,
      );
    warehouses = new Set(ids.data);
  }
  const name = payload[claims.name];
  return {
    subject: payload.sub,
    displayName: typeof name === 'string' && name.trim() ? name.trim().slice(0, 100) : undefined,
    organizationId: organization.data,
    roles,
    warehouses,
  };
}

function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `the token's ${error.claim} claim is not accepted`;
  if (error instanceof errors.JWKSNoMatchingKey) return 'the token is signed with an unknown key';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the token signature is not valid';
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid)
    return 'the identity provider key set could not be read';
  return 'the token is not a valid signed JWT';
}

/** Reads `Bearer <token>` from an Authorization header or gRPC metadata value. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header ? /^Bearer\s+([A-Za-z0-9\-_.~+/]+=*)\s*$/i.exec(header) : null;
  return match?.[1];
}

/**
 * The verifier the configuration describes, with a line for the log saying how tokens are checked.
 * Throws ConfigError when there is no key set: the API never runs silently without authentication.
 */
export function tokenVerifierFromConfig(config: Config): {
  verify: TokenVerifier;
  description: string;
  signaturesVerified: boolean;
} {
  const claims: ClaimNames = {
    organization: config.AUTH_ORGANIZATION_CLAIM,
    roles: config.AUTH_ROLES_CLAIM,
    warehouses: config.AUTH_WAREHOUSES_CLAIM,
    name: config.AUTH_NAME_CLAIM,
  };
  const clockToleranceSeconds = config.AUTH_CLOCK_TOLERANCE_SECONDS;
  if (!config.AUTH_VERIFY_SIGNATURES) {
    if (config.NODE_ENV === 'production')
      throw new ConfigError(
        'AUTH_VERIFY_SIGNATURES=false is for development only and is refused when NODE_ENV=production',
      );
    const verify = createTokenVerifier({
      keys: { jwks: { keys: [] } },
      issuer: '',
      audience: '',
      clockToleranceSeconds,
      claims,
      skipSignature: true,
    });
    return {
      verify,
      signaturesVerified: false,
      description:
        'AUTH_VERIFY_SIGNATURES=false: token signatures, issuer and audience are NOT checked (development only)',
    };
  }
  if (config.AUTH_JWKS_URL) {
    if (!config.AUTH_ISSUER || !config.AUTH_AUDIENCE)
      throw new ConfigError(
        "AUTH_JWKS_URL needs AUTH_ISSUER and AUTH_AUDIENCE: the identity provider's issuer and the audience its tokens name for this service",
      );
    const verify = createTokenVerifier({
      keys: { url: config.AUTH_JWKS_URL },
      issuer: config.AUTH_ISSUER,
      audience: config.AUTH_AUDIENCE,
      clockToleranceSeconds,
      claims,
    });
    return {
      verify,
      signaturesVerified: true,
      description: `bearer tokens from ${config.AUTH_ISSUER}, keys from ${config.AUTH_JWKS_URL}`,
    };
  }
  if (config.AUTH_JWKS_FILE) {
    let jwks: JSONWebKeySet;
    try {
      jwks = JSON.parse(readFileSync(config.AUTH_JWKS_FILE, 'utf8')) as JSONWebKeySet;
    } catch (error) {
      throw new ConfigError(
        `AUTH_JWKS_FILE=${config.AUTH_JWKS_FILE}: cannot read a JWKS from it (${(error as Error).message})`,
      );
    }
    const issuer = config.AUTH_ISSUER ?? devIssuer;
    const verify = createTokenVerifier({
      keys: { jwks },
      issuer,
      audience: config.AUTH_AUDIENCE ?? devAudience,
      clockToleranceSeconds,
      claims,
    });
    return {
      verify,
      signaturesVerified: true,
      description: `bearer tokens from ${issuer}, keys from ${config.AUTH_JWKS_FILE}`,
    };
  }
  throw new ConfigError(
    'no token key set: set AUTH_JWKS_URL (your identity provider) or AUTH_JWKS_FILE (npm start creates a development one), or AUTH_VERIFY_SIGNATURES=false for development',
  );
}
