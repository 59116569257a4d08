import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * The custom search attributes ops filter on in Temporal UI. The dev server must know them before a
 * workflow sets them: `npm start` and the test environment register this list (see `searchAttributeFlags`).
 */
export const OrganizationId = defineSearchAttributeKey('OrganizationId', SearchAttributeType.KEYWORD);
export const OrderId = defineSearchAttributeKey('OrderId', SearchAttributeType.KEYWORD);
export const ReservationStatus = defineSearchAttributeKey('ReservationStatus', SearchAttributeType.KEYWORD);
export const TransferStatus = defineSearchAttributeKey('TransferStatus', SearchAttributeType.KEYWORD);
export const WarehouseIds = defineSearchAttributeKey('WarehouseIds', SearchAttributeType.KEYWORD_LIST);
export const OriginWarehouseId = defineSearchAttributeKey('OriginWarehouseId', SearchAttributeType.KEYWORD);
export const DestinationWarehouseId = defineSearchAttributeKey('DestinationWarehouseId', SearchAttributeType.KEYWORD);
export const ExpiresAt = defineSearchAttributeKey('ExpiresAt', SearchAttributeType.DATETIME);
/** True while a confirmed hold has stayed open past its cap (reservationLimits.confirmedOverdueSeconds). */
export const ConfirmedOverdue = defineSearchAttributeKey('ConfirmedOverdue', SearchAttributeType.BOOL);

export const searchAttributes = [
  OrganizationId,
  OrderId,
  ReservationStatus,
  TransferStatus,
  WarehouseIds,
  OriginWarehouseId,
  DestinationWarehouseId,
  ExpiresAt,
  ConfirmedOverdue,
];
