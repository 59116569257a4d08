// Original file: inventory/v1/inventory.proto


export interface ConfirmResponse {
  'success'?: (boolean);
  'reservation_id'?: (string);
  'status'?: (string);
}

export interface ConfirmResponse__Output {
  'success': (boolean);
  'reservation_id': (string);
  'status': (string);
}
