import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as InventoryProto } from './generated/inventory.ts';
import type { ProtoGrpcType as CatalogProto } from './generated/catalog.ts';

/** Where the .proto files live. */
export const protoRoot = fileURLToPath(new URL('../../proto', import.meta.url));
/** The API this service serves (and reflects). */
export const servedProtoFiles = ['inventory/v1/inventory.proto'];
/** Other services' APIs this service calls as a client: typed like ours, but never served or reflected. */
export const calledProtoFiles = ['catalog/v1/catalog.proto'];
/** Every proto with generated types (scripts/proto-gen.ts). */
export const protoFiles = [...servedProtoFiles, ...calledProtoFiles];

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
const reflectedProtoFiles = [...servedProtoFiles, 'grpc/health/v1/health.proto', 'google/rpc/error_details.proto'];

export function loadPackageDefinition(): protoLoader.PackageDefinition {
  return protoLoader.loadSync(reflectedProtoFiles, protoLoaderOptions);
}

export function loadInventoryProto(definition = loadPackageDefinition()): InventoryProto {
  return grpc.loadPackageDefinition(definition) as unknown as InventoryProto;
}

/** The catalog's client constructor (services/catalog/catalog-client.ts); loaded on its own, apart from what we serve. */
export function loadCatalogProto(): CatalogProto {
  return grpc.loadPackageDefinition(
    protoLoader.loadSync(calledProtoFiles, protoLoaderOptions),
  ) as unknown as CatalogProto;
}
