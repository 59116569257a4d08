// Original file: inventory/v1/inventory.proto


export interface FulfilReservationRequest {
  'organization_id'?: (string);
  'reservation_id'?: (string);
  'order_id'?: (string);
}

export interface FulfilReservationRequest__Output {
  'organization_id': (string);
  'reservation_id': (string);
  'order_id': (string);
}
