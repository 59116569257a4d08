// Original file: inventory/v1/inventory.proto


export interface ExtendReservationResponse {
  'success'?: (boolean);
  'reservation_id'?: (string);
  'status'?: (string);
  'expires_at'?: (string);
}

export interface ExtendReservationResponse__Output {
  'success': (boolean);
  'reservation_id': (string);
  'status': (string);
  'expires_at': (string);
}
