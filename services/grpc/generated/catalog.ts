import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { CatalogServiceClient as _catalog_v1_CatalogServiceClient, CatalogServiceDefinition as _catalog_v1_CatalogServiceDefinition } from './catalog/v1/CatalogService.ts';
import type { ValidateVariantRequest as _catalog_v1_ValidateVariantRequest, ValidateVariantRequest__Output as _catalog_v1_ValidateVariantRequest__Output } from './catalog/v1/ValidateVariantRequest.ts';
import type { ValidateVariantResponse as _catalog_v1_ValidateVariantResponse, ValidateVariantResponse__Output as _catalog_v1_ValidateVariantResponse__Output } from './catalog/v1/ValidateVariantResponse.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  catalog: {
    v1: {
      CatalogService: SubtypeConstructor<typeof grpc.Client, _catalog_v1_CatalogServiceClient> & { service: _catalog_v1_CatalogServiceDefinition }
      ValidateVariantRequest: MessageTypeDefinition<_catalog_v1_ValidateVariantRequest, _catalog_v1_ValidateVariantRequest__Output>
      ValidateVariantResponse: MessageTypeDefinition<_catalog_v1_ValidateVariantResponse, _catalog_v1_ValidateVariantResponse__Output>
    }
  }
}

