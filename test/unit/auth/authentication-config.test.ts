import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, temporalConnectConfig } from '../../../services/config.ts';
import { tokenVerifierFromConfig } from '../../../services/auth/token-verifier.ts';
import { createDevIssuer } from '../../../services/auth/dev-issuer.ts';

describe('authentication and Temporal connection settings', () => {
  it('refuses to build a verifier without a key set, so the API never runs silently without authentication', () => {
    assert.throws(
      () => tokenVerifierFromConfig(loadConfig({})),
      (e: unknown) => e instanceof ConfigError && /AUTH_JWKS_URL/.test(e.message),
    );
  });

  it("refuses a JWKS URL without the identity provider's issuer and audience", () => {
    assert.throws(
      () => tokenVerifierFromConfig(loadConfig({ AUTH_JWKS_URL: 'https://idp.example/jwks.json' })),
      /AUTH_ISSUER and AUTH_AUDIENCE/,
    );
    const { description, signaturesVerified } = tokenVerifierFromConfig(
      loadConfig({
        AUTH_JWKS_URL: 'https://idp.example/jwks.json',
        AUTH_ISSUER: 'https://idp.example/',
        AUTH_AUDIENCE: 'inventory',
      }),
    );
    assert.equal(signaturesVerified, true);
    assert.match(description, /https:\/\/idp\.example\/jwks\.json/);
  });

  it('turns signature checks off only as an explicit development switch, never in production', async () => {
    assert.throws(
      () => tokenVerifierFromConfig(loadConfig({ AUTH_VERIFY_SIGNATURES: 'false', NODE_ENV: 'production' })),
      /development only/,
    );
    const unverified = tokenVerifierFromConfig(loadConfig({ AUTH_VERIFY_SIGNATURES: 'false' }));
    assert.equal(unverified.signaturesVerified, false);
    const stranger = await createDevIssuer();
    const principal = await unverified.verify(
      await stranger.mint({
        subject: 'dev',
        organizationId: '00000000-0000-4000-A000-000000000001',
        roles: ['operator'],
      }),
    );
    assert.equal(
      principal.organizationId,
      '00000000-0000-4000-a000-000000000001',
      'claims are still read, and ids lower-cased',
    );
  });

  it('verifies against a JWKS file with the development issuer and audience by default', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'jwks-'));
    try {
      const issuer = await createDevIssuer();
      writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify(issuer.jwks));
      const { verify } = tokenVerifierFromConfig(loadConfig({ AUTH_JWKS_FILE: path.join(dir, 'jwks.json') }));
      const principal = await verify(
        await issuer.mint({
          subject: 'ana',
          organizationId: '00000000-0000-4000-a000-000000000001',
          roles: ['auditor'],
        }),
      );
      assert.deepEqual(principal.roles, ['auditor']);
      assert.throws(
        () => tokenVerifierFromConfig(loadConfig({ AUTH_JWKS_FILE: path.join(dir, 'missing.json') })),
        /cannot read a JWKS/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads Temporal's environment configuration: an API key turns TLS on, and the validated address and namespace win", () => {
    const config = loadConfig({ TEMPORAL_ADDRESS: 'acme.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'acme.inventory' });
    const cloud = temporalConnectConfig(config, { TEMPORAL_API_KEY: 'secret-key', TEMPORAL_GRPC_META_X_TEAM: 'stock' });
    assert.equal(cloud.namespace, 'acme.inventory');
    assert.equal(cloud.connectionOptions.address, 'acme.tmprl.cloud:7233');
    assert.equal(cloud.connectionOptions.apiKey, 'secret-key');
    assert.equal(cloud.connectionOptions.tls, true);
    const local = temporalConnectConfig(loadConfig({}), {});
    assert.equal(local.connectionOptions.address, '127.0.0.1:7233');
    assert.equal(local.connectionOptions.tls, undefined, 'the dev server is plain text');
    assert.throws(
      () =>
        temporalConnectConfig(loadConfig({}), {
          TEMPORAL_TLS_CLIENT_CERT_PATH: '/nowhere/cert.pem',
          TEMPORAL_TLS_CLIENT_KEY_PATH: '/nowhere/key.pem',
        }),
      ConfigError,
    );
  });
});
