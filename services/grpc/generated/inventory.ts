import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { Allocation as _inventory_v1_Allocation, Allocation__Output as _inventory_v1_Allocation__Output } from './inventory/v1/Allocation.ts';
import type { AvailabilityItem as _inventory_v1_AvailabilityItem, AvailabilityItem__Output as _inventory_v1_AvailabilityItem__Output } from './inventory/v1/AvailabilityItem.ts';
import type { AvailabilityRequest as _inventory_v1_AvailabilityRequest, AvailabilityRequest__Output as _inventory_v1_AvailabilityRequest__Output } from './inventory/v1/AvailabilityRequest.ts';
import type { AvailabilityResponse as _inventory_v1_AvailabilityResponse, AvailabilityResponse__Output as _inventory_v1_AvailabilityResponse__Output } from './inventory/v1/AvailabilityResponse.ts';
import type { AvailabilityResult as _inventory_v1_AvailabilityResult, AvailabilityResult__Output as _inventory_v1_AvailabilityResult__Output } from './inventory/v1/AvailabilityResult.ts';
import type { ConfirmRequest as _inventory_v1_ConfirmRequest, ConfirmRequest__Output as _inventory_v1_ConfirmRequest__Output } from './inventory/v1/ConfirmRequest.ts';
import type { ConfirmResponse as _inventory_v1_ConfirmResponse, ConfirmResponse__Output as _inventory_v1_ConfirmResponse__Output } from './inventory/v1/ConfirmResponse.ts';
import type { ExtendReservationRequest as _inventory_v1_ExtendReservationRequest, ExtendReservationRequest__Output as _inventory_v1_ExtendReservationRequest__Output } from './inventory/v1/ExtendReservationRequest.ts';
import type { ExtendReservationResponse as _inventory_v1_ExtendReservationResponse, ExtendReservationResponse__Output as _inventory_v1_ExtendReservationResponse__Output } from './inventory/v1/ExtendReservationResponse.ts';
import type { FulfilReservationRequest as _inventory_v1_FulfilReservationRequest, FulfilReservationRequest__Output as _inventory_v1_FulfilReservationRequest__Output } from './inventory/v1/FulfilReservationRequest.ts';
import type { FulfilReservationResponse as _inventory_v1_FulfilReservationResponse, FulfilReservationResponse__Output as _inventory_v1_FulfilReservationResponse__Output } from './inventory/v1/FulfilReservationResponse.ts';
import type { GetReservationRequest as _inventory_v1_GetReservationRequest, GetReservationRequest__Output as _inventory_v1_GetReservationRequest__Output } from './inventory/v1/GetReservationRequest.ts';
import type { HistoryRequest as _inventory_v1_HistoryRequest, HistoryRequest__Output as _inventory_v1_HistoryRequest__Output } from './inventory/v1/HistoryRequest.ts';
import type { HistoryResponse as _inventory_v1_HistoryResponse, HistoryResponse__Output as _inventory_v1_HistoryResponse__Output } from './inventory/v1/HistoryResponse.ts';
import type { InventoryServiceClient as _inventory_v1_InventoryServiceClient, InventoryServiceDefinition as _inventory_v1_InventoryServiceDefinition } from './inventory/v1/InventoryService.ts';
import type { Movement as _inventory_v1_Movement, Movement__Output as _inventory_v1_Movement__Output } from './inventory/v1/Movement.ts';
import type { Quantities as _inventory_v1_Quantities, Quantities__Output as _inventory_v1_Quantities__Output } from './inventory/v1/Quantities.ts';
import type { Reference as _inventory_v1_Reference, Reference__Output as _inventory_v1_Reference__Output } from './inventory/v1/Reference.ts';
import type { ReleaseRequest as _inventory_v1_ReleaseRequest, ReleaseRequest__Output as _inventory_v1_ReleaseRequest__Output } from './inventory/v1/ReleaseRequest.ts';
import type { ReleaseResponse as _inventory_v1_ReleaseResponse, ReleaseResponse__Output as _inventory_v1_ReleaseResponse__Output } from './inventory/v1/ReleaseResponse.ts';
import type { Reservation as _inventory_v1_Reservation, Reservation__Output as _inventory_v1_Reservation__Output } from './inventory/v1/Reservation.ts';
import type { ReserveItem as _inventory_v1_ReserveItem, ReserveItem__Output as _inventory_v1_ReserveItem__Output } from './inventory/v1/ReserveItem.ts';
import type { ReserveStockRequest as _inventory_v1_ReserveStockRequest, ReserveStockRequest__Output as _inventory_v1_ReserveStockRequest__Output } from './inventory/v1/ReserveStockRequest.ts';
import type { ReserveStockResponse as _inventory_v1_ReserveStockResponse, ReserveStockResponse__Output as _inventory_v1_ReserveStockResponse__Output } from './inventory/v1/ReserveStockResponse.ts';
import type { StockLevel as _inventory_v1_StockLevel, StockLevel__Output as _inventory_v1_StockLevel__Output } from './inventory/v1/StockLevel.ts';
import type { Transition as _inventory_v1_Transition, Transition__Output as _inventory_v1_Transition__Output } from './inventory/v1/Transition.ts';
import type { WarehouseRequest as _inventory_v1_WarehouseRequest, WarehouseRequest__Output as _inventory_v1_WarehouseRequest__Output } from './inventory/v1/WarehouseRequest.ts';
import type { WarehouseStockResponse as _inventory_v1_WarehouseStockResponse, WarehouseStockResponse__Output as _inventory_v1_WarehouseStockResponse__Output } from './inventory/v1/WarehouseStockResponse.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  inventory: {
    v1: {
      Allocation: MessageTypeDefinition<_inventory_v1_Allocation, _inventory_v1_Allocation__Output>
      AvailabilityItem: MessageTypeDefinition<_inventory_v1_AvailabilityItem, _inventory_v1_AvailabilityItem__Output>
      AvailabilityRequest: MessageTypeDefinition<_inventory_v1_AvailabilityRequest, _inventory_v1_AvailabilityRequest__Output>
      AvailabilityResponse: MessageTypeDefinition<_inventory_v1_AvailabilityResponse, _inventory_v1_AvailabilityResponse__Output>
      AvailabilityResult: MessageTypeDefinition<_inventory_v1_AvailabilityResult, _inventory_v1_AvailabilityResult__Output>
      ConfirmRequest: MessageTypeDefinition<_inventory_v1_ConfirmRequest, _inventory_v1_ConfirmRequest__Output>
      ConfirmResponse: MessageTypeDefinition<_inventory_v1_ConfirmResponse, _inventory_v1_ConfirmResponse__Output>
      ExtendReservationRequest: MessageTypeDefinition<_inventory_v1_ExtendReservationRequest, _inventory_v1_ExtendReservationRequest__Output>
      ExtendReservationResponse: MessageTypeDefinition<_inventory_v1_ExtendReservationResponse, _inventory_v1_ExtendReservationResponse__Output>
      FulfilReservationRequest: MessageTypeDefinition<_inventory_v1_FulfilReservationRequest, _inventory_v1_FulfilReservationRequest__Output>
      FulfilReservationResponse: MessageTypeDefinition<_inventory_v1_FulfilReservationResponse, _inventory_v1_FulfilReservationResponse__Output>
      GetReservationRequest: MessageTypeDefinition<_inventory_v1_GetReservationRequest, _inventory_v1_GetReservationRequest__Output>
      HistoryRequest: MessageTypeDefinition<_inventory_v1_HistoryRequest, _inventory_v1_HistoryRequest__Output>
      HistoryResponse: MessageTypeDefinition<_inventory_v1_HistoryResponse, _inventory_v1_HistoryResponse__Output>
      InventoryService: SubtypeConstructor<typeof grpc.Client, _inventory_v1_InventoryServiceClient> & { service: _inventory_v1_InventoryServiceDefinition }
      Movement: MessageTypeDefinition<_inventory_v1_Movement, _inventory_v1_Movement__Output>
      Quantities: MessageTypeDefinition<_inventory_v1_Quantities, _inventory_v1_Quantities__Output>
      Reference: MessageTypeDefinition<_inventory_v1_Reference, _inventory_v1_Reference__Output>
      ReleaseRequest: MessageTypeDefinition<_inventory_v1_ReleaseRequest, _inventory_v1_ReleaseRequest__Output>
      ReleaseResponse: MessageTypeDefinition<_inventory_v1_ReleaseResponse, _inventory_v1_ReleaseResponse__Output>
      Reservation: MessageTypeDefinition<_inventory_v1_Reservation, _inventory_v1_Reservation__Output>
      ReserveItem: MessageTypeDefinition<_inventory_v1_ReserveItem, _inventory_v1_ReserveItem__Output>
      ReserveStockRequest: MessageTypeDefinition<_inventory_v1_ReserveStockRequest, _inventory_v1_ReserveStockRequest__Output>
      ReserveStockResponse: MessageTypeDefinition<_inventory_v1_ReserveStockResponse, _inventory_v1_ReserveStockResponse__Output>
      StockLevel: MessageTypeDefinition<_inventory_v1_StockLevel, _inventory_v1_StockLevel__Output>
      Transition: MessageTypeDefinition<_inventory_v1_Transition, _inventory_v1_Transition__Output>
      WarehouseRequest: MessageTypeDefinition<_inventory_v1_WarehouseRequest, _inventory_v1_WarehouseRequest__Output>
      WarehouseStockResponse: MessageTypeDefinition<_inventory_v1_WarehouseStockResponse, _inventory_v1_WarehouseStockResponse__Output>
    }
  }
}

