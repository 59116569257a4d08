import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { Client } from '@temporalio/client';
import type { Orm } from '../db/orm.ts';
import type { Logger } from '../logger.ts';
import { loadInventoryProto, loadPackageDefinition } from './proto.ts';
import { createStockHandlers } from './stock.handlers.ts';
import { createReservationHandlers } from './reservation.handlers.ts';
import { authenticationInterceptor } from './authentication.ts';
import type { TokenVerifier } from '../auth/token-verifier.ts';

export interface GrpcDeps {
  orm: Orm;
  logger: Logger;
  /** Turns each call's `authorization` metadata into the caller (services/auth). */
  verifyToken: TokenVerifier;
  /** Drives the reservation workflows; reads never use it. */
  temporal?: { client: Client; taskQueue: string };
}

export const serviceName = 'inventory.v1.InventoryService';

/**
 * The gRPC server, not yet bound: InventoryService (every call authenticated by a bearer token),
 * server reflection (so grpcurl needs no .proto) and the standard health service, both open. `health.setStatus` lets the entry point report NOT_SERVING while it drains.
 */
export function createGrpcServer(deps: GrpcDeps): { server: grpc.Server; health: HealthImplementation } {
  const definition = loadPackageDefinition();
  const proto = loadInventoryProto(definition);
  const server = new grpc.Server({ interceptors: [authenticationInterceptor(deps.verifyToken, serviceName)] });
  server.addService(proto.inventory.v1.InventoryService.service, {
    ...createStockHandlers(deps),
    ...createReservationHandlers(deps),
  });
  new ReflectionService(definition).addToServer(server);
  const health = new HealthImplementation({ '': 'SERVING', [serviceName]: 'SERVING' });
  health.addToServer(server);
  return { server, health };
}

/** Binds the server; resolves with the port actually bound (useful with port 0). */
export function bindGrpcServer(server: grpc.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  });
}
