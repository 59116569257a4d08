// Original file: catalog/v1/catalog.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ValidateVariantRequest as _catalog_v1_ValidateVariantRequest, ValidateVariantRequest__Output as _catalog_v1_ValidateVariantRequest__Output } from '../../catalog/v1/ValidateVariantRequest.ts';
import type { ValidateVariantResponse as _catalog_v1_ValidateVariantResponse, ValidateVariantResponse__Output as _catalog_v1_ValidateVariantResponse__Output } from '../../catalog/v1/ValidateVariantResponse.ts';

export interface CatalogServiceClient extends grpc.Client {
  ValidateVariant(argument: _catalog_v1_ValidateVariantRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_catalog_v1_ValidateVariantResponse__Output>): grpc.ClientUnaryCall;
  ValidateVariant(argument: _catalog_v1_ValidateVariantRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_catalog_v1_ValidateVariantResponse__Output>): grpc.ClientUnaryCall;
  ValidateVariant(argument: _catalog_v1_ValidateVariantRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_catalog_v1_ValidateVariantResponse__Output>): grpc.ClientUnaryCall;
  ValidateVariant(argument: _catalog_v1_ValidateVariantRequest, callback: grpc.requestCallback<_catalog_v1_ValidateVariantResponse__Output>): grpc.ClientUnaryCall;
  validateVariant(argument: _catalog_v1_ValidateVariantRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_catalog_v1_ValidateVariantResponse__Output>): grpc.ClientUnaryCall;
  validateVariant(argument: _catalog_v1_ValidateVariantRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_catalog_v1_ValidateVariantResponse__Output>): grpc.ClientUnaryCall;
  validateVariant(argument: _catalog_v1_ValidateVariantRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_catalog_v1_ValidateVariantResponse__Output>): grpc.ClientUnaryCall;
  validateVariant(argument: _catalog_v1_ValidateVariantRequest, callback: grpc.requestCallback<_catalog_v1_ValidateVariantResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface CatalogServiceHandlers extends grpc.UntypedServiceImplementation {
  ValidateVariant: grpc.handleUnaryCall<_catalog_v1_ValidateVariantRequest__Output, _catalog_v1_ValidateVariantResponse>;
  
}

export interface CatalogServiceDefinition extends grpc.ServiceDefinition {
  ValidateVariant: MethodDefinition<_catalog_v1_ValidateVariantRequest, _catalog_v1_ValidateVariantResponse, _catalog_v1_ValidateVariantRequest__Output, _catalog_v1_ValidateVariantResponse__Output>
}
