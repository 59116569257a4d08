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

export function loadPackageDefinition(): protoLoader.PackageDefinition {
  return protoLoader.loadSync(protoFiles, protoLoaderOptions);
}

export function loadInventoryProto(definition = loadPackageDefinition()): InventoryProto {
  return grpc.loadPackageDefinition(definition) as unknown as InventoryProto;
}
