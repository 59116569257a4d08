import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ReserveStockResponse__Output } from '../../services/grpc/generated/inventory/v1/ReserveStockResponse.ts';
import { stockedOrganization } from '../helpers/fixtures.ts';
import { grpcClient } from '../helpers/grpc.ts';
import { present } from '../helpers/present.ts';
import { parts, probe, serviceEnvironment, type Part, type ServiceEnvironment } from '../helpers/service-processes.ts';
import { waitFor } from '../helpers/wait.ts';

const startScript = fileURLToPath(new URL('../../scripts/start.ts', import.meta.url));

/** The part each child of `npm start` runs (services/<part>.ts), by pid. */
function partsOf(supervisor: ChildProcess): Map<Part, number> {
  let listing = '';
  try {
    listing = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(supervisor.pid)], { encoding: 'utf8' });
  } catch {
    // ps exits 1 when the supervisor has no children.
  }
  const found = new Map<Part, number>();
  for (const line of listing.split('\n')) {
    const match = /^\s*(\d+)\s.*services\/([a-z-]+)\.ts/.exec(line);
    const part = match?.[2] as Part | undefined;
    if (match && part && parts.includes(part)) found.set(part, Number(match[1]));
  }
  return found;
}

const isReady = (answer: Awaited<ReturnType<typeof probe>>) => answer !== 'refused' && answer.status === 200;

/** When the gRPC server's process started, from its own metrics (Node's process_start_time_seconds). */
async function grpcStartTime(environment: ServiceEnvironment): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${environment.ports.GRPC_METRICS_PORT}/metrics`)).text();
  const line = present(
    text.split('\n').find((l) => l.startsWith('process_start_time_seconds')),
    'process_start_time_seconds',
  );
  return Number(line.split(' ').pop());
}

/**
 * `npm start` itself (scripts/start.ts) against the run's hermetic stack: it finds PostgreSQL, RabbitMQ
 * and Temporal given, applies the (already applied) migrations and supervises the five parts.
 */
describe('npm start supervises its parts: a killed part comes back, the others keep serving', function () {
  this.timeout(120_000);
  let environment: ServiceEnvironment;
  let supervisor: ChildProcess;
  let log = '';
  let exited: Promise<number | null>;

  before(async () => {
    environment = await serviceEnvironment('supervision');
    const env = { ...environment.env };
    delete env.DATABASE_ADMIN_URL;
    supervisor = spawn(process.execPath, [startScript], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    present(supervisor.stdout, 'stdout').on('data', (chunk: Buffer) => (log += chunk.toString()));
    present(supervisor.stderr, 'stderr').on('data', (chunk: Buffer) => (log += chunk.toString()));
    exited = new Promise((resolve) => supervisor.once('exit', (code) => resolve(code)));
    await Promise.all(
      parts.map((part) =>
        waitFor(
          () => probe(environment.readyUrl(part)),
          isReady,
          `${part}'s /ready under npm start (log: ${log.slice(-2000)})`,
          60_000,
        ),
      ),
    );
  });

  after(async () => {
    // Whatever happened above: no part outlives the test.
    const left = supervisor ? [...partsOf(supervisor).values()] : [];
    if (supervisor?.exitCode === null) supervisor.kill('SIGKILL');
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await environment?.remove();
  });

  it('the worker and the gRPC server SIGKILLed: REST, relay and consumer stay ready, both are restarted with a log line, a new start time, and serve a reservation; Ctrl-C then stops everything once, exit 0', async () => {
    const before = partsOf(supervisor);
    assert.deepEqual([...before.keys()].sort(), [...parts].sort(), `one process per part:\n${log.slice(-2000)}`);
    const grpcStartedAt = await grpcStartTime(environment);

    for (const part of ['worker', 'grpc-server'] as const) process.kill(present(before.get(part), part), 'SIGKILL');
    await waitFor(
      async () => log,
      (text) =>
        /worker exited \(SIGKILL\): restarting/.test(text) && /grpc-server exited \(SIGKILL\): restarting/.test(text),
      'the supervisor to log both deaths',
    );
    for (const part of ['http-server', 'relay', 'consumer'] as const) {
      assert.ok(isReady(await probe(environment.readyUrl(part))), `${part} still ready while the others are down`);
      assert.equal(partsOf(supervisor).get(part), before.get(part), `${part} was not restarted`);
    }

    for (const part of ['worker', 'grpc-server'] as const) {
      await waitFor(() => probe(environment.readyUrl(part)), isReady, `${part} back`, 30_000);
      const pid = partsOf(supervisor).get(part);
      assert.ok(pid && pid !== before.get(part), `${part} runs as a new process (${before.get(part)} → ${pid})`);
    }
    assert.ok((await grpcStartTime(environment)) > grpcStartedAt, 'the gRPC server reports a later start time');

    // The restarted pair serves: a hold through the new gRPC server, run by the new worker.
    const { organizationId, variantId, warehouseId } = await stockedOrganization(5);
    const api = grpcClient(`127.0.0.1:${environment.ports.GRPC_PORT}`);
    try {
      const held = await api.call<ReserveStockResponse__Output>('ReserveStock', {
        organization_id: organizationId,
        order_id: 'order-after-restart',
        lines: [{ variant_id: variantId, quantity: 2 }],
        preferred_warehouse_id: warehouseId,
        ttl_seconds: 300,
      });
      assert.equal(held.status, 'active');
    } finally {
      await api.close();
    }

    const children = [...partsOf(supervisor).values()];
    supervisor.kill('SIGINT');
    assert.equal(await exited, 0, log.slice(-3000));
    assert.equal(log.match(/\[start\] stopping/g)?.length, 1, 'stopped once');
    assert.match(log, /\[start\] stopped/);
    for (const pid of children) {
      assert.throws(() => process.kill(pid, 0), `part ${pid} is gone`);
    }
  });
});
