import * as grpc from '@grpc/grpc-js';
import { loadCatalogProto } from '../../services/grpc/proto.ts';
import type { CatalogServiceHandlers } from '../../services/grpc/generated/catalog/v1/CatalogService.ts';
import type { ValidateVariantResponse } from '../../services/grpc/generated/catalog/v1/ValidateVariantResponse.ts';

/**
 * A stand-in for the catalog service (a peer outside this service): a real gRPC server on a fixed
 * local port that can be made slow, stopped and started again on the same address.
 */
export interface FakeCatalog {
  address: string;
  /** What the catalog says of each variant id; unknown ids answer `exists: false`. */
  variants: Map<string, ValidateVariantResponse>;
  /** Calls received (attempts, retries included). */
  calls: number;
  /** Delay before each answer. */
  delayMs: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startFakeCatalog(): Promise<FakeCatalog> {
  const { CatalogService } = loadCatalogProto().catalog.v1;
  let server: grpc.Server | undefined;
  let port = 0;
  const fake: FakeCatalog = {
    address: '',
    variants: new Map(),
    calls: 0,
    delayMs: 0,
    async start() {
      const handlers: CatalogServiceHandlers = {
        ValidateVariant(call, callback) {
          fake.calls += 1;
          const answer = fake.variants.get(call.request.variant_id) ?? { exists: false };
          setTimeout(() => callback(null, answer), fake.delayMs);
        },
      };
      const started = new grpc.Server();
      server = started;
      started.addService(CatalogService.service, handlers);
      port = await new Promise<number>((resolve, reject) =>
        started.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) =>
          error ? reject(error) : resolve(bound),
        ),
      );
      fake.address = `127.0.0.1:${port}`;
    },
    async stop() {
      server?.forceShutdown();
      server = undefined;
    },
  };
  await fake.start();
  return fake;
}
