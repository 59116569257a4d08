import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as InventoryProto } from './generated/inventory.ts';

/** Where the .proto files live, and the ones this service serves or calls. */
export const protoRoot = fileURLToPath(new URL('../../proto', import.meta.url));
export const protoFiles = ['inventory/v1/inventory.proto'];

/**
 * How messages map to JavaScript: snake_case field names as in the .proto, and scalars filled with
 * their defaults. scripts/proto-gen.ts generates the types with the same options.
 */
export const protoLoaderOptions = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [protoRoot],
};

/** What reflection describes: the service's own protos plus the standard health service. */
const reflectedProtoFiles = [...protoFiles, 'grpc/health/v1/health.proto', 'google/rpc/error_details.proto'];

export function loadPackageDefinition(): protoLoader.PackageDefinition {
  return protoLoader.loadSync(reflectedProtoFiles, protoLoaderOptions);
}

export function loadInventoryProto(definition = loadPackageDefinition()): InventoryProto {
  return grpc.loadPackageDefinition(definition) as unknown as InventoryProto;
}
