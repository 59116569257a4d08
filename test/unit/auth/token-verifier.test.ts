import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDevIssuer, type DevIssuer } from '../../../services/auth/dev-issuer.ts';
import {
  createTokenVerifier,
  devAudience,
  devIssuer,
  type TokenVerifier,
} from '../../../services/auth/token-verifier.ts';
import { AuthenticationError } from '../../../services/auth/errors.ts';
import { actorOf, can, inWarehouseScope } from '../../../services/auth/access.ts';

const org = '11111111-1111-4111-8111-111111111111';
const now = () => Math.floor(Date.now() / 1000);

async function refused(verify: TokenVerifier, token: string, reason: RegExp): Promise<void> {
  await assert.rejects(verify(token), (e: unknown) => e instanceof AuthenticationError && reason.test(e.message));
}

describe('bearer token verification', () => {
  let issuer: DevIssuer;
  let verify: TokenVerifier;
  before(async () => {
    issuer = await createDevIssuer();
    verify = createTokenVerifier({
      keys: { jwks: issuer.jwks },
      issuer: devIssuer,
      audience: devAudience,
      clockToleranceSeconds: 30,
    });
  });

  it('turns a valid token into the caller: subject, display name, organization (lower case), known roles, warehouse scope', async () => {
    const token = await issuer.mint({
      subject: 'ana',
      name: 'Ana Ruiz',
      organizationId: org.toUpperCase(),
      roles: ['operator', 'wizard'],
      warehouses: ['22222222-2222-4222-8222-22222222222A'],
    });
    const principal = await verify(token);
    assert.equal(principal.subject, 'ana');
    assert.equal(principal.organizationId, org);
    assert.deepEqual(principal.roles, ['operator'], 'an unknown role grants nothing');
    assert.ok(inWarehouseScope(principal, '22222222-2222-4222-8222-22222222222a'));
    assert.ok(!inWarehouseScope(principal, '33333333-3333-4333-8333-333333333333'));
    assert.equal(actorOf(principal), 'ana (Ana Ruiz)');
    assert.ok(
      can(principal, 'stock:adjust') && !can(principal, 'warehouses:write') && !can(principal, 'reservations:write'),
    );
    const everywhere = await verify(
      await issuer.mint({ subject: 'bo', organizationId: org, roles: ['operator'], warehouses: ['*'] }),
    );
    assert.equal(everywhere.warehouses, 'all');
  });

  it('refuses expired tokens, but allows the configured clock skew', async () => {
    await refused(
      verify,
      await issuer.mint({ subject: 'a', organizationId: org, roles: [], issuedAt: now() - 3600, ttlSeconds: 60 }),
      /expired/,
    );
    await verify(
      await issuer.mint({ subject: 'a', organizationId: org, roles: [], issuedAt: now() - 80, ttlSeconds: 60 }),
    );
  });

  it('refuses another issuer, another audience, an unknown key and a tampered payload', async () => {
    await refused(
      verify,
      await issuer.mint({ subject: 'a', organizationId: org, roles: [], issuer: 'https://evil.example' }),
      /iss/,
    );
    await refused(
      verify,
      await issuer.mint({ subject: 'a', organizationId: org, roles: [], audience: 'billing' }),
      /aud/,
    );
    const stranger = await createDevIssuer();
    await refused(verify, await stranger.mint({ subject: 'a', organizationId: org, roles: ['admin'] }), /unknown key/);
    const [header, payload, signature] = (
      await issuer.mint({ subject: 'a', organizationId: org, roles: ['auditor'] })
    ).split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()), roles: ['admin'] }),
    ).toString('base64url');
    await refused(verify, `${header}.${forged}.${signature}`, /signature/);
    await refused(verify, 'not-a-jwt', /not a valid signed JWT/);
  });

  it('refuses a token without an organization UUID or with a malformed warehouse scope', async () => {
    await refused(verify, await issuer.mint({ subject: 'a', organizationId: 'acme', roles: [] }), /org_id/);
    await refused(
      verify,
      await issuer.mint({ subject: 'a', organizationId: org, roles: [], warehouses: ['main'] }),
      /warehouses/,
    );
  });

  it('reads keys from a JWKS URL, caches them, and refetches when the provider rotates to a new key', async () => {
    let served: DevIssuer = issuer;
    let fetches = 0;
    const server: Server = createServer((_req, res) => {
      fetches += 1;
      res.setHeader('content-type', 'application/json').end(JSON.stringify(served.jwks));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
      const remote = createTokenVerifier({
        keys: { url, cooldownMs: 0 },
        issuer: devIssuer,
        audience: devAudience,
        clockToleranceSeconds: 30,
      });
      await remote(await issuer.mint({ subject: 'a', organizationId: org, roles: [] }));
      await remote(await issuer.mint({ subject: 'b', organizationId: org, roles: [] }));
      assert.equal(fetches, 1, 'the key set is cached');
      served = await createDevIssuer();
      // A token signed with the rotated key names an unknown kid: the verifier refetches the set once.
      const principal = await remote(await served.mint({ subject: 'c', organizationId: org, roles: [] }));
      assert.equal(principal.subject, 'c');
      assert.equal(fetches, 2);
    } finally {
      server.close();
    }
  });
});
