import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { bundleWorkflows } from '../../scripts/bundle-workflows.ts';
import { createActivities } from '../../activities/index.ts';
import { searchAttributes } from '../../workflows/search-attributes.ts';
import { dynamicConfigYaml } from '../../services/temporal-dev-server.ts';
import { reservationClientFor } from '../helpers/temporal.ts';
import { stockedOrganization } from '../helpers/fixtures.ts';
import { testStack } from '../helpers/stack.ts';
import { present } from '../helpers/present.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const composeFile = path.join(root, 'docker', 'compose.yaml');
const secrets = {
  POSTGRES_PASSWORD: 'pw',
  INVENTORY_OWNER_DB_PASSWORD: 'owner-pw',
  INVENTORY_RUNTIME_DB_PASSWORD: 'runtime-pw',
  INVENTORY_SYSTEM_DB_PASSWORD: 'system-pw',
  RABBITMQ_PASSWORD: 'pw',
  AUTH_JWKS_URL: 'https://idp.example/jwks.json',
  AUTH_ISSUER: 'https://idp.example/',
  AUTH_AUDIENCE: 'inventory',
};

interface ComposeModel {
  services: Record<
    string,
    {
      image?: string;
      ports?: { published?: string; host_ip?: string }[];
      environment?: Record<string, string | null>;
      profiles?: string[];
      depends_on?: Record<string, { condition: string }>;
      healthcheck?: unknown;
    }
  >;
}

/**
 * docker/compose.yaml as the compose-spec reference loader (compose-go) reads it. Its command-line loader
 * does not pass the environment to interpolation (v2.16.2's LoadModel drops it), so the test interpolates
 * `${NAME:?message}` and `${NAME:-default}` itself, as compose does, refusing a missing required one with
 * compose's message, and hands the loader a copy with nothing left to interpolate.
 */
async function loadCompose(env: Record<string, string>): Promise<ComposeModel> {
  const loader = process.env.COMPOSE_CHECK_PATH;
  if (!loader)
    throw new Error(
      'COMPOSE_CHECK_PATH is not set: run the tests with `npm test`, which builds the compose-spec loader',
    );
  const interpolated = readFileSync(composeFile, 'utf8').replace(
    /\$\{(\w+)(?::([?-])([^}]*))?\}/g,
    (_m, name: string, kind?: string, rest?: string) => {
      const value = env[name];
      if (value) return value;
      if (kind === '?') throw new Error(`required variable ${name} is missing a value: ${rest}`);
      return kind === '-' ? (rest ?? '') : '';
    },
  );
  const dir = mkdtempSync(path.join(tmpdir(), 'compose-'));
  try {
    writeFileSync(path.join(dir, 'compose.yaml'), interpolated);
    const { stdout } = await promisify(execFile)(loader, ['-format', 'json', 'compose.yaml'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '' },
    });
    return JSON.parse(stdout) as ComposeModel;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What can be checked of the deployment without a Docker engine (there is none here): the compose file is
 * valid to the compose-spec loader and says what README promises, and the worker runs a workflow bundle
 * built ahead of time, as the image does. The image itself and `docker compose up` were not run here.
 */
describe('deployment', () => {
  it('the compose file is valid, publishes only the REST and gRPC ports, and runs every part from one image', async () => {
    const model = await loadCompose(secrets);
    const published = Object.entries(model.services).flatMap(([name, s]) =>
      (s.ports ?? []).filter(() => !(s.profiles ?? []).length).map((p) => `${name}:${p.published}`),
    );
    assert.deepEqual(published.sort(), ['grpc:50053', 'http:8003']);
    assert.deepEqual(
      model.services['temporal-ui']?.ports?.map((p) => p.host_ip),
      ['127.0.0.1'],
      'the UI, when asked for, listens on loopback only',
    );
    const parts = ['worker', 'grpc', 'http', 'relay', 'consumer', 'migrate'];
    const images = parts.map((p) => present(model.services[p]?.image, `the ${p} service's image`));
    assert.equal(new Set(images).size, 1, 'one image tag for every part');
    for (const part of parts.filter((p) => p !== 'migrate')) {
      const s = present(model.services[part], `the ${part} service`);
      assert.equal(s.environment?.SEED_DEMO_DATA, 'false', `${part}: demo data off`);
      assert.equal(
        s.environment?.AUTH_JWKS_URL,
        secrets.AUTH_JWKS_URL,
        `${part}: the identity provider from docker/.env`,
      );
      assert.equal(
        s.depends_on?.migrate?.condition,
        'service_completed_successfully',
        `${part} waits for the migrations`,
      );
      assert.equal(
        s.depends_on?.['temporal-setup']?.condition,
        'service_completed_successfully',
        `${part} waits for Temporal's namespace and search attributes`,
      );
    }
    for (const part of ['http', 'grpc', 'worker', 'relay', 'consumer', 'postgres', 'rabbitmq'])
      assert.ok(model.services[part]?.healthcheck, `${part} has a health check`);
    for (const [part, port] of [
      ['http', 8003],
      ['grpc', 9464],
      ['worker', 9468],
      ['relay', 9466],
      ['consumer', 9467],
    ] as const) {
      assert.match(
        JSON.stringify(model.services[part]?.healthcheck),
        new RegExp(`127\\.0\\.0\\.1:${port}/ready`),
        `${part}'s health check asks its /ready`,
      );
    }
    assert.equal(model.services.temporal?.environment?.DB, 'postgres12', 'Temporal persists to PostgreSQL');
  });

  it('runs every part as the runtime role; only the migrate job holds the owner and superuser, only three parts the system role', async () => {
    const model = await loadCompose(secrets);
    const user = (url: string | null | undefined) => (url ? new URL(url).username : undefined);
    for (const part of ['worker', 'grpc', 'http', 'relay', 'consumer']) {
      const environment = model.services[part]?.environment ?? {};
      assert.equal(user(environment.DATABASE_URL), 'inventory_runtime', `${part} runs as the runtime role`);
      assert.equal(environment.DATABASE_OWNER_URL, undefined, `${part} has no owner's URL`);
      assert.equal(environment.DATABASE_ADMIN_URL, undefined, `${part} has no superuser's URL`);
      const system = ['worker', 'http', 'relay'].includes(part) ? 'inventory_system' : undefined;
      assert.equal(
        user(environment.DATABASE_SYSTEM_URL),
        system,
        `${part}: the system role only where it works across organizations`,
      );
    }
    const migrate = model.services.migrate?.environment ?? {};
    assert.deepEqual(
      [migrate.DATABASE_ADMIN_URL, migrate.DATABASE_OWNER_URL, migrate.DATABASE_URL, migrate.DATABASE_SYSTEM_URL].map(
        user,
      ),
      ['postgres', 'inventory_owner', 'inventory_runtime', 'inventory_system'],
    );
  });

  it('refuses to load without the secrets and the identity provider', async () => {
    for (const missing of Object.keys(secrets)) {
      const env = Object.fromEntries(Object.entries(secrets).filter(([k]) => k !== missing));
      await assert.rejects(loadCompose(env), (error: Error) => error.message.includes(missing), `without ${missing}`);
    }
  });

  it('registers exactly the search attributes the workflows set', () => {
    const compose = readFileSync(composeFile, 'utf8');
    const registered = [...compose.matchAll(/--name (\w+) --type (\w+)/g)]
      .map((m) => `${m[1]}=${present(m[2], 'the type').toUpperCase()}`)
      .sort();
    const declared = searchAttributes.map((a) => `${a.name}=${a.type.replace('_', '')}`).sort();
    assert.deepEqual(registered, declared);
  });

  it("gives compose's Temporal server the dynamic config of every other Temporal server the project runs", () => {
    const file = readFileSync(path.join(root, 'docker', 'temporal-dynamic-config.yaml'), 'utf8');
    const values = file
      .split('\n')
      .filter((line) => line.trim() && !line.startsWith('#'))
      .join('\n');
    assert.equal(`${values}\n`, dynamicConfigYaml());
  });

  it('a worker runs reservations from a workflow bundle built ahead of time, as the image does', async function () {
    this.timeout(120_000);
    const dir = mkdtempSync(path.join(tmpdir(), 'bundle-'));
    try {
      const codePath = path.join(dir, 'workflow-bundle.js');
      await bundleWorkflows(codePath, { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} });
      const stack = testStack();
      const taskQueue = `bundle-${randomUUID()}`;
      const worker = await Worker.create({
        connection: stack.temporal.nativeConnection,
        taskQueue,
        workflowBundle: { codePath },
        activities: createActivities(stack),
      });
      await worker.runUntil(async () => {
        const { organizationId, variantId } = await stockedOrganization(5);
        const held = await reservationClientFor(taskQueue).reserve(organizationId, `order-${randomUUID()}`, {
          items: [{ variant_id: variantId, quantity: 2 }],
          ttlSeconds: 60,
        });
        assert.equal(held.status, 'active');
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
