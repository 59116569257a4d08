import * as grpc from '@grpc/grpc-js';
import { bindGrpcServer, createGrpcServer } from '../../services/grpc/server.ts';
import { loadInventoryProto } from '../../services/grpc/proto.ts';
import type { InventoryServiceClient } from '../../services/grpc/generated/inventory/v1/InventoryService.ts';
import { randomUUID } from 'node:crypto';
import { testStack, tokenFor } from './stack.ts';
import type { Limits } from '../../services/limits/settings.ts';
import type { Orm } from '../../services/db/orm.ts';
import type { GrpcMetrics } from '../../services/metrics/grpc.ts';
import type { Client } from '@temporalio/client';
import type { Logger } from '../../services/logger.ts';

export interface GrpcHarness {
  client: InventoryServiceClient;
  address: string;
  /**
   * Calls a unary method and resolves with its response, or rejects with the ServiceError. It sends a
   * token for the request's organization_id with every role, unless `metadata` brings its own.
   */
  call<Res>(method: keyof InventoryServiceClient, request: object, metadata?: grpc.Metadata): Promise<Res>;
  close(): Promise<void>;
}

/**
 * The real gRPC server on a free port, backed by the test stack (or `orm`, `temporalClient`, `logger`), and a
 * real client. `limits` (rate limits, quotas, server options) default to the service's documented defaults;
 * `traced` puts each call in a span (README, Traces).
 */
export async function startGrpc(
  options: {
    taskQueue?: string;
    limits?: Limits;
    orm?: Orm;
    metrics?: GrpcMetrics;
    temporalClient?: Client;
    logger?: Logger;
    traced?: boolean;
  } = {},
): Promise<GrpcHarness> {
  const stack = testStack();
  const { server } = createGrpcServer({
    orm: options.orm ?? stack.orm,
    logger: options.logger ?? stack.logger,
    verifyToken: stack.verifyToken,
    temporal: { client: options.temporalClient ?? stack.temporal.client, taskQueue: options.taskQueue ?? 'inventory' },
    limits: options.limits,
    metrics: options.metrics,
    traced: options.traced,
  });
  const port = await bindGrpcServer(server, '127.0.0.1', 0);
  const harness = grpcClient(`127.0.0.1:${port}`);
  return {
    ...harness,
    close: async () => {
      await harness.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}

/**
 * A real client of the gRPC server at `address` (one of the harness's own, or a server in another
 * process); `close` closes the client only.
 */
export function grpcClient(address: string): GrpcHarness {
  const proto = loadInventoryProto();
  const client = new proto.inventory.v1.InventoryService(
    address,
    grpc.credentials.createInsecure(),
  ) as InventoryServiceClient;
  return {
    client,
    address,
    call: async <Res>(method: keyof InventoryServiceClient, request: object, metadata?: grpc.Metadata) => {
      const sent = metadata ?? (await bearerFor(request));
      return new Promise<Res>((resolve, reject) => {
        const fn = client[method] as unknown as (
          req: object,
          md: grpc.Metadata,
          cb: (err: grpc.ServiceError | null, res: Res) => void,
        ) => void;
        fn.call(client, request, sent, (err, res) => (err ? reject(err) : resolve(res)));
      });
    },
    close: async () => client.close(),
  };
}

/** Asserts a rejected call carried the given status code; returns the error for further checks. */
export async function expectStatus(promise: Promise<unknown>, code: grpc.status): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (error) {
    const e = error as grpc.ServiceError;
    if (e.code !== code)
      throw new Error(`expected status ${grpc.status[code]}, got ${grpc.status[e.code]}: ${e.details}`);
    return e;
  }
  throw new Error(`expected status ${grpc.status[code]}, but the call succeeded`);
}

/** Metadata carrying a token for the request's organization_id (a random organization when it has none or a malformed one). */
export async function bearerFor(request: object, token?: string): Promise<grpc.Metadata> {
  const organizationId = (request as { organization_id?: unknown }).organization_id;
  const valid =
    typeof organizationId === 'string' && /^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/i.test(organizationId);
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token ?? (await tokenFor(valid ? organizationId : randomUUID()))}`);
  return metadata;
}
