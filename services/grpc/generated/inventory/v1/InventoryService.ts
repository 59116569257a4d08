// Original file: inventory/v1/inventory.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AvailabilityRequest as _inventory_v1_AvailabilityRequest, AvailabilityRequest__Output as _inventory_v1_AvailabilityRequest__Output } from '../../inventory/v1/AvailabilityRequest.ts';
import type { AvailabilityResponse as _inventory_v1_AvailabilityResponse, AvailabilityResponse__Output as _inventory_v1_AvailabilityResponse__Output } from '../../inventory/v1/AvailabilityResponse.ts';
import type { ConfirmRequest as _inventory_v1_ConfirmRequest, ConfirmRequest__Output as _inventory_v1_ConfirmRequest__Output } from '../../inventory/v1/ConfirmRequest.ts';
import type { ConfirmResponse as _inventory_v1_ConfirmResponse, ConfirmResponse__Output as _inventory_v1_ConfirmResponse__Output } from '../../inventory/v1/ConfirmResponse.ts';
import type { ExtendReservationRequest as _inventory_v1_ExtendReservationRequest, ExtendReservationRequest__Output as _inventory_v1_ExtendReservationRequest__Output } from '../../inventory/v1/ExtendReservationRequest.ts';
import type { ExtendReservationResponse as _inventory_v1_ExtendReservationResponse, ExtendReservationResponse__Output as _inventory_v1_ExtendReservationResponse__Output } from '../../inventory/v1/ExtendReservationResponse.ts';
import type { FulfilReservationRequest as _inventory_v1_FulfilReservationRequest, FulfilReservationRequest__Output as _inventory_v1_FulfilReservationRequest__Output } from '../../inventory/v1/FulfilReservationRequest.ts';
import type { FulfilReservationResponse as _inventory_v1_FulfilReservationResponse, FulfilReservationResponse__Output as _inventory_v1_FulfilReservationResponse__Output } from '../../inventory/v1/FulfilReservationResponse.ts';
import type { GetReservationRequest as _inventory_v1_GetReservationRequest, GetReservationRequest__Output as _inventory_v1_GetReservationRequest__Output } from '../../inventory/v1/GetReservationRequest.ts';
import type { HistoryRequest as _inventory_v1_HistoryRequest, HistoryRequest__Output as _inventory_v1_HistoryRequest__Output } from '../../inventory/v1/HistoryRequest.ts';
import type { HistoryResponse as _inventory_v1_HistoryResponse, HistoryResponse__Output as _inventory_v1_HistoryResponse__Output } from '../../inventory/v1/HistoryResponse.ts';
import type { ReleaseRequest as _inventory_v1_ReleaseRequest, ReleaseRequest__Output as _inventory_v1_ReleaseRequest__Output } from '../../inventory/v1/ReleaseRequest.ts';
import type { ReleaseResponse as _inventory_v1_ReleaseResponse, ReleaseResponse__Output as _inventory_v1_ReleaseResponse__Output } from '../../inventory/v1/ReleaseResponse.ts';
import type { Reservation as _inventory_v1_Reservation, Reservation__Output as _inventory_v1_Reservation__Output } from '../../inventory/v1/Reservation.ts';
import type { ReserveStockRequest as _inventory_v1_ReserveStockRequest, ReserveStockRequest__Output as _inventory_v1_ReserveStockRequest__Output } from '../../inventory/v1/ReserveStockRequest.ts';
import type { ReserveStockResponse as _inventory_v1_ReserveStockResponse, ReserveStockResponse__Output as _inventory_v1_ReserveStockResponse__Output } from '../../inventory/v1/ReserveStockResponse.ts';
import type { WarehouseRequest as _inventory_v1_WarehouseRequest, WarehouseRequest__Output as _inventory_v1_WarehouseRequest__Output } from '../../inventory/v1/WarehouseRequest.ts';
import type { WarehouseStockResponse as _inventory_v1_WarehouseStockResponse, WarehouseStockResponse__Output as _inventory_v1_WarehouseStockResponse__Output } from '../../inventory/v1/WarehouseStockResponse.ts';

export interface InventoryServiceClient extends grpc.Client {
  CheckAvailability(argument: _inventory_v1_AvailabilityRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_AvailabilityResponse__Output>): grpc.ClientUnaryCall;
  CheckAvailability(argument: _inventory_v1_AvailabilityRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_inventory_v1_AvailabilityResponse__Output>): grpc.ClientUnaryCall;
  CheckAvailability(argument: _inventory_v1_AvailabilityRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_AvailabilityResponse__Output>): grpc.ClientUnaryCall;
  CheckAvailability(argument: _inventory_v1_AvailabilityRequest, callback: grpc.requestCallback<_inventory_v1_AvailabilityResponse__Output>): grpc.ClientUnaryCall;
  checkAvailability(argument: _inventory_v1_AvailabilityRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_AvailabilityResponse__Output>): grpc.ClientUnaryCall;
  checkAvailability(argument: _inventory_v1_AvailabilityRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_inventory_v1_AvailabilityResponse__Output>): grpc.ClientUnaryCall;
  checkAvailability(argument: _inventory_v1_AvailabilityRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_AvailabilityResponse__Output>): grpc.ClientUnaryCall;
  checkAvailability(argument: _inventory_v1_AvailabilityRequest, callback: grpc.requestCallback<_inventory_v1_AvailabilityResponse__Output>): grpc.ClientUnaryCall;
  
  ConfirmReservation(argument: _inventory_v1_ConfirmRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_ConfirmResponse__Output>): grpc.ClientUnaryCall;
  ConfirmReservation(argument: _inventory_v1_ConfirmRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_inventory_v1_ConfirmResponse__Output>): grpc.ClientUnaryCall;
  ConfirmReservation(argument: _inventory_v1_ConfirmRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_ConfirmResponse__Output>): grpc.ClientUnaryCall;
  ConfirmReservation(argument: _inventory_v1_ConfirmRequest, callback: grpc.requestCallback<_inventory_v1_ConfirmResponse__Output>): grpc.ClientUnaryCall;
  confirmReservation(argument: _inventory_v1_ConfirmRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_ConfirmResponse__Output>): grpc.ClientUnaryCall;
  confirmReservation(argument: _inventory_v1_ConfirmRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_inventory_v1_ConfirmResponse__Output>): grpc.ClientUnaryCall;
  confirmReservation(argument: _inventory_v1_ConfirmRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_ConfirmResponse__Output>): grpc.ClientUnaryCall;
  confirmReservation(argument: _inventory_v1_ConfirmRequest, callback: grpc.requestCallback<_inventory_v1_ConfirmResponse__Output>): grpc.ClientUnaryCall;
  
  ExtendReservation(argument: _inventory_v1_ExtendReservationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_ExtendReservationResponse__Output>): grpc.ClientUnaryCall;
  ExtendReservation(argument: _inventory_v1_ExtendReservationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_inventory_v1_ExtendReservationResponse__Output>): grpc.ClientUnaryCall;
  ExtendReservation(argument: _inventory_v1_ExtendReservationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_ExtendReservationResponse__Output>): grpc.ClientUnaryCall;
  ExtendReservation(argument: _inventory_v1_ExtendReservationRequest, callback: grpc.requestCallback<_inventory_v1_ExtendReservationResponse__Output>): grpc.ClientUnaryCall;
  extendReservation(argument: _inventory_v1_ExtendReservationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_ExtendReservationResponse__Output>): grpc.ClientUnaryCall;
  extendReservation(argument: _inventory_v1_ExtendReservationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_inventory_v1_ExtendReservationResponse__Output>): grpc.ClientUnaryCall;
  extendReservation(argument: _inventory_v1_ExtendReservationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_ExtendReservationResponse__Output>): grpc.ClientUnaryCall;
  extendReservation(argument: _inventory_v1_ExtendReservationRequest, callback: grpc.requestCallback<_inventory_v1_ExtendReservationResponse__Output>): grpc.ClientUnaryCall;
  
  FulfilReservation(argument: _inventory_v1_FulfilReservationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_FulfilReservationResponse__Output>): grpc.ClientUnaryCall;
  FulfilReservation(argument: _inventory_v1_FulfilReservationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_inventory_v1_FulfilReservationResponse__Output>): grpc.ClientUnaryCall;
  FulfilReservation(argument: _inventory_v1_FulfilReservationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_FulfilReservationResponse__Output>): grpc.ClientUnaryCall;
  FulfilReservation(argument: _inventory_v1_FulfilReservationRequest, callback: grpc.requestCallback<_inventory_v1_FulfilReservationResponse__Output>): grpc.ClientUnaryCall;
  fulfilReservation(argument: _inventory_v1_FulfilReservationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_FulfilReservationResponse__Output>): grpc.ClientUnaryCall;
  fulfilReservation(argument: _inventory_v1_FulfilReservationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_inventory_v1_FulfilReservationResponse__Output>): grpc.ClientUnaryCall;
  fulfilReservation(argument: _inventory_v1_FulfilReservationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_FulfilReservationResponse__Output>): grpc.ClientUnaryCall;
  fulfilReservation(argument: _inventory_v1_FulfilReservationRequest, callback: grpc.requestCallback<_inventory_v1_FulfilReservationResponse__Output>): grpc.ClientUnaryCall;
  
  GetReservation(argument: _inventory_v1_GetReservationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_Reservation__Output>): grpc.ClientUnaryCall;
  GetReservation(argument: _inventory_v1_GetReservationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_inventory_v1_Reservation__Output>): grpc.ClientUnaryCall;
  GetReservation(argument: _inventory_v1_GetReservationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_Reservation__Output>): grpc.ClientUnaryCall;
  GetReservation(argument: _inventory_v1_GetReservationRequest, callback: grpc.requestCallback<_inventory_v1_Reservation__Output>): grpc.ClientUnaryCall;
  getReservation(argument: _inventory_v1_GetReservationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_Reservation__Output>): grpc.ClientUnaryCall;
  getReservation(argument: _inventory_v1_GetReservationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_inventory_v1_Reservation__Output>): grpc.ClientUnaryCall;
  getReservation(argument: _inventory_v1_GetReservationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_Reservation__Output>): grpc.ClientUnaryCall;
  getReservation(argument: _inventory_v1_GetReservationRequest, callback: grpc.requestCallback<_inventory_v1_Reservation__Output>): grpc.ClientUnaryCall;
  
  GetStockHistory(argument: _inventory_v1_HistoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_HistoryResponse__Output>): grpc.ClientUnaryCall;
  GetStockHistory(argument: _inventory_v1_HistoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_inventory_v1_HistoryResponse__Output>): grpc.ClientUnaryCall;
  GetStockHistory(argument: _inventory_v1_HistoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_HistoryResponse__Output>): grpc.ClientUnaryCall;
  GetStockHistory(argument: _inventory_v1_HistoryRequest, callback: grpc.requestCallback<_inventory_v1_HistoryResponse__Output>): grpc.ClientUnaryCall;
  getStockHistory(argument: _inventory_v1_HistoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_HistoryResponse__Output>): grpc.ClientUnaryCall;
  getStockHistory(argument: _inventory_v1_HistoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_inventory_v1_HistoryResponse__Output>): grpc.ClientUnaryCall;
  getStockHistory(argument: _inventory_v1_HistoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_HistoryResponse__Output>): grpc.ClientUnaryCall;
  getStockHistory(argument: _inventory_v1_HistoryRequest, callback: grpc.requestCallback<_inventory_v1_HistoryResponse__Output>): grpc.ClientUnaryCall;
  
  GetWarehouseStock(argument: _inventory_v1_WarehouseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_WarehouseStockResponse__Output>): grpc.ClientUnaryCall;
  GetWarehouseStock(argument: _inventory_v1_WarehouseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_inventory_v1_WarehouseStockResponse__Output>): grpc.ClientUnaryCall;
  GetWarehouseStock(argument: _inventory_v1_WarehouseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_WarehouseStockResponse__Output>): grpc.ClientUnaryCall;
  GetWarehouseStock(argument: _inventory_v1_WarehouseRequest, callback: grpc.requestCallback<_inventory_v1_WarehouseStockResponse__Output>): grpc.ClientUnaryCall;
  getWarehouseStock(argument: _inventory_v1_WarehouseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_WarehouseStockResponse__Output>): grpc.ClientUnaryCall;
  getWarehouseStock(argument: _inventory_v1_WarehouseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_inventory_v1_WarehouseStockResponse__Output>): grpc.ClientUnaryCall;
  getWarehouseStock(argument: _inventory_v1_WarehouseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_WarehouseStockResponse__Output>): grpc.ClientUnaryCall;
  getWarehouseStock(argument: _inventory_v1_WarehouseRequest, callback: grpc.requestCallback<_inventory_v1_WarehouseStockResponse__Output>): grpc.ClientUnaryCall;
  
  ReleaseReservation(argument: _inventory_v1_ReleaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  ReleaseReservation(argument: _inventory_v1_ReleaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_inventory_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  ReleaseReservation(argument: _inventory_v1_ReleaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  ReleaseReservation(argument: _inventory_v1_ReleaseRequest, callback: grpc.requestCallback<_inventory_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  releaseReservation(argument: _inventory_v1_ReleaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  releaseReservation(argument: _inventory_v1_ReleaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_inventory_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  releaseReservation(argument: _inventory_v1_ReleaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  releaseReservation(argument: _inventory_v1_ReleaseRequest, callback: grpc.requestCallback<_inventory_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  
  ReserveStock(argument: _inventory_v1_ReserveStockRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_ReserveStockResponse__Output>): grpc.ClientUnaryCall;
  ReserveStock(argument: _inventory_v1_ReserveStockRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_inventory_v1_ReserveStockResponse__Output>): grpc.ClientUnaryCall;
  ReserveStock(argument: _inventory_v1_ReserveStockRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_ReserveStockResponse__Output>): grpc.ClientUnaryCall;
  ReserveStock(argument: _inventory_v1_ReserveStockRequest, callback: grpc.requestCallback<_inventory_v1_ReserveStockResponse__Output>): grpc.ClientUnaryCall;
  reserveStock(argument: _inventory_v1_ReserveStockRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_ReserveStockResponse__Output>): grpc.ClientUnaryCall;
  reserveStock(argument: _inventory_v1_ReserveStockRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_inventory_v1_ReserveStockResponse__Output>): grpc.ClientUnaryCall;
  reserveStock(argument: _inventory_v1_ReserveStockRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_inventory_v1_ReserveStockResponse__Output>): grpc.ClientUnaryCall;
  reserveStock(argument: _inventory_v1_ReserveStockRequest, callback: grpc.requestCallback<_inventory_v1_ReserveStockResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface InventoryServiceHandlers extends grpc.UntypedServiceImplementation {
  CheckAvailability: grpc.handleUnaryCall<_inventory_v1_AvailabilityRequest__Output, _inventory_v1_AvailabilityResponse>;
  
  ConfirmReservation: grpc.handleUnaryCall<_inventory_v1_ConfirmRequest__Output, _inventory_v1_ConfirmResponse>;
  
  ExtendReservation: grpc.handleUnaryCall<_inventory_v1_ExtendReservationRequest__Output, _inventory_v1_ExtendReservationResponse>;
  
  FulfilReservation: grpc.handleUnaryCall<_inventory_v1_FulfilReservationRequest__Output, _inventory_v1_FulfilReservationResponse>;
  
  GetReservation: grpc.handleUnaryCall<_inventory_v1_GetReservationRequest__Output, _inventory_v1_Reservation>;
  
  GetStockHistory: grpc.handleUnaryCall<_inventory_v1_HistoryRequest__Output, _inventory_v1_HistoryResponse>;
  
  GetWarehouseStock: grpc.handleUnaryCall<_inventory_v1_WarehouseRequest__Output, _inventory_v1_WarehouseStockResponse>;
  
  ReleaseReservation: grpc.handleUnaryCall<_inventory_v1_ReleaseRequest__Output, _inventory_v1_ReleaseResponse>;
  
  ReserveStock: grpc.handleUnaryCall<_inventory_v1_ReserveStockRequest__Output, _inventory_v1_ReserveStockResponse>;
  
}

export interface InventoryServiceDefinition extends grpc.ServiceDefinition {
  CheckAvailability: MethodDefinition<_inventory_v1_AvailabilityRequest, _inventory_v1_AvailabilityResponse, _inventory_v1_AvailabilityRequest__Output, _inventory_v1_AvailabilityResponse__Output>
  ConfirmReservation: MethodDefinition<_inventory_v1_ConfirmRequest, _inventory_v1_ConfirmResponse, _inventory_v1_ConfirmRequest__Output, _inventory_v1_ConfirmResponse__Output>
  ExtendReservation: MethodDefinition<_inventory_v1_ExtendReservationRequest, _inventory_v1_ExtendReservationResponse, _inventory_v1_ExtendReservationRequest__Output, _inventory_v1_ExtendReservationResponse__Output>
  FulfilReservation: MethodDefinition<_inventory_v1_FulfilReservationRequest, _inventory_v1_FulfilReservationResponse, _inventory_v1_FulfilReservationRequest__Output, _inventory_v1_FulfilReservationResponse__Output>
  GetReservation: MethodDefinition<_inventory_v1_GetReservationRequest, _inventory_v1_Reservation, _inventory_v1_GetReservationRequest__Output, _inventory_v1_Reservation__Output>
  GetStockHistory: MethodDefinition<_inventory_v1_HistoryRequest, _inventory_v1_HistoryResponse, _inventory_v1_HistoryRequest__Output, _inventory_v1_HistoryResponse__Output>
  GetWarehouseStock: MethodDefinition<_inventory_v1_WarehouseRequest, _inventory_v1_WarehouseStockResponse, _inventory_v1_WarehouseRequest__Output, _inventory_v1_WarehouseStockResponse__Output>
  ReleaseReservation: MethodDefinition<_inventory_v1_ReleaseRequest, _inventory_v1_ReleaseResponse, _inventory_v1_ReleaseRequest__Output, _inventory_v1_ReleaseResponse__Output>
  ReserveStock: MethodDefinition<_inventory_v1_ReserveStockRequest, _inventory_v1_ReserveStockResponse, _inventory_v1_ReserveStockRequest__Output, _inventory_v1_ReserveStockResponse__Output>
}
