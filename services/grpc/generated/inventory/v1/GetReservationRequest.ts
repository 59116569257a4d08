// Original file: inventory/v1/inventory.proto


export interface GetReservationRequest {
  'organization_id'?: (string);
  'reservation_id'?: (string);
  'order_id'?: (string);
}

export interface GetReservationRequest__Output {
  'organization_id': (string);
  'reservation_id': (string);
  'order_id': (string);
}
