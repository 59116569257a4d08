// Original file: inventory/v1/inventory.proto


export interface FulfilReservationResponse {
  'success'?: (boolean);
  'reservation_id'?: (string);
  'status'?: (string);
}

export interface FulfilReservationResponse__Output {
  'success': (boolean);
  'reservation_id': (string);
  'status': (string);
}
