import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JSONWebKeySet, type JWK } from 'jose';
import type { Role } from './access.ts';
import { defaultClaimNames, devAudience, devIssuer } from './token-verifier.ts';

/**
 * A token issuer for development and tests, standing in for the identity provider: one ES256 key pair,
 * its public half published as a JWKS file the service verifies against (AUTH_JWKS_FILE), its private
 * half kept beside it (mode 0600) so `npm run token` can sign. Never used in production, where tokens
 * come from a real identity provider and the service only holds its JWKS URL.
 */
export interface TokenRequest {
  subject: string;
  organizationId: string;
  roles: readonly (Role | string)[];
  /** Warehouse ids, or undefined for all of the organization's. */
  warehouses?: readonly string[];
  name?: string;
  ttlSeconds?: number;
  /** Overrides, for tests of what the service refuses (another issuer or audience, a token from the past). */
  issuer?: string;
  audience?: string;
  issuedAt?: number;
}

export interface DevIssuer {
  jwks: JSONWebKeySet;
  mint(request: TokenRequest): Promise<string>;
}

/** A key pair that lives only in memory (tests). */
export async function createDevIssuer(): Promise<DevIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = randomUUID();
  return issuerFrom(privateKey, { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' });
}

/** The key pair under `dir` (created once): `jwks.json` for the service, `issuer-key.json` for minting. */
export async function loadOrCreateDevIssuer(dir: string): Promise<DevIssuer & { jwksFile: string }> {
  const jwksFile = path.join(dir, 'jwks.json');
  const keyFile = path.join(dir, 'issuer-key.json');
  if (!existsSync(keyFile) || !existsSync(jwksFile)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const kid = randomUUID();
    writeFileSync(keyFile, JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: 'ES256' }), { mode: 0o600 });
    chmodSync(keyFile, 0o600);
    writeFileSync(
      jwksFile,
      JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] }, null, 2),
    );
  }
  const privateJwk = JSON.parse(readFileSync(keyFile, 'utf8')) as JWK;
  const jwks = JSON.parse(readFileSync(jwksFile, 'utf8')) as JSONWebKeySet;
  const publicJwk = jwks.keys.find((k) => k.kid === privateJwk.kid);
  if (!publicJwk) throw new Error(`${jwksFile} does not hold the key in ${keyFile}: delete both to make a new pair`);
  const privateKey = (await importJWK(privateJwk, 'ES256')) as CryptoKey;
  return { ...issuerFrom(privateKey, publicJwk), jwks, jwksFile };
}

function issuerFrom(privateKey: CryptoKey, publicJwk: JWK): DevIssuer {
  return {
    jwks: { keys: [publicJwk] },
    mint: (r) => {
      const now = r.issuedAt ?? Math.floor(Date.now() / 1000);
      return new SignJWT({
        [defaultClaimNames.organization]: r.organizationId,
        [defaultClaimNames.roles]: [...r.roles],
        ...(r.warehouses ? { [defaultClaimNames.warehouses]: [...r.warehouses] } : {}),
        ...(r.name ? { [defaultClaimNames.name]: r.name } : {}),
      })
        .setProtectedHeader({ alg: 'ES256', kid: publicJwk.kid, typ: 'JWT' })
        .setSubject(r.subject)
        .setIssuer(r.issuer ?? devIssuer)
        .setAudience(r.audience ?? devAudience)
        .setIssuedAt(now)
        .setExpirationTime(now + (r.ttlSeconds ?? 3600))
        .setJti(randomUUID())
        .sign(privateKey);
    },
  };
}
