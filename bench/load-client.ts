/**
 * The benchmark's order service: a separate process, as the real caller is, so the server under test
 * does not share its event loop with the load. Reads a job as JSON from argv[2], prints Stats as JSON.
 */
import * as grpc from '@grpc/grpc-js';
import { loadInventoryProto, loadPackageDefinition } from '../services/grpc/proto.ts';
import { itemAt } from '../services/guaranteed.ts';
import { measure } from './stats.ts';

export interface LoadJob {
  /** The gRPC servers to call: request i goes to addresses[i % addresses.length]. */
  addresses: string[];
  /** `HealthCheck`: grpc.health.v1.Health/Check of the same server, the floor of a unary call through it. */
  method: 'ReserveStock' | 'CheckAvailability' | 'HealthCheck';
  total: number;
  concurrency: number;
  organizationId: string;
  /** Request i uses variants[i % variants.length]. */
  variants: string[];
  orderPrefix?: string;
  ttlSeconds?: number;
  /** The bearer token sent with every call. */
  token: string;
}

const [, , jobJson] = process.argv;
if (jobJson === undefined) throw new Error('usage: node bench/load-client.ts <job as JSON>');
const job = JSON.parse(jobJson) as LoadJob;
const definition = loadPackageDefinition();
type Service = new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client;
// The standard health service, loaded from the same definition the server serves and reflects.
const { Health } = (
  grpc.loadPackageDefinition(definition) as unknown as { grpc: { health: { v1: { Health: Service } } } }
).grpc.health.v1;
const { InventoryService } = loadInventoryProto(definition).inventory.v1;
const rpcName = job.method === 'HealthCheck' ? 'Check' : job.method;
const clients = job.addresses.map(
  (address) =>
    new (job.method === 'HealthCheck' ? Health : (InventoryService as unknown as Service))(
      address,
      grpc.credentials.createInsecure(),
    ),
);
const metadata = new grpc.Metadata();
metadata.set('authorization', `Bearer ${job.token}`);
const call = (i: number, request: object) => {
  const client = itemAt(clients, i % clients.length, 'clients');
  return new Promise((resolve, reject) =>
    (
      (client as unknown as Record<string, unknown>)[rpcName] as (
        r: object,
        m: grpc.Metadata,
        cb: (e: Error | null, v: unknown) => void,
      ) => void
    ).call(client, request, metadata, (e, v) => (e ? reject(e) : resolve(v))),
  );
};

const stats = await measure(job.total, job.concurrency, (i) => {
  const variant_id = job.variants[i % job.variants.length];
  if (job.method === 'HealthCheck') return call(i, { service: 'inventory.v1.InventoryService' });
  return job.method === 'ReserveStock'
    ? call(i, {
        organization_id: job.organizationId,
        order_id: `${job.orderPrefix}-${i}`,
        items: [{ variant_id, quantity: 1 }],
        ttl_seconds: job.ttlSeconds ?? 3600,
      })
    : call(i, { organization_id: job.organizationId, items: [{ variant_id, quantity: 1 }] });
});
for (const client of clients) client.close();
process.stdout.write(JSON.stringify(stats));
