// Original file: inventory/v1/inventory.proto


export interface ExtendReservationRequest {
  'organization_id'?: (string);
  'reservation_id'?: (string);
  'order_id'?: (string);
  'ttl_seconds'?: (number);
}

export interface ExtendReservationRequest__Output {
  'organization_id': (string);
  'reservation_id': (string);
  'order_id': (string);
  'ttl_seconds': (number);
}
