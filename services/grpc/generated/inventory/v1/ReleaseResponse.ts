// Original file: inventory/v1/inventory.proto


export interface ReleaseResponse {
  'success'?: (boolean);
  'reservation_id'?: (string);
  'status'?: (string);
}

export interface ReleaseResponse__Output {
  'success': (boolean);
  'reservation_id': (string);
  'status': (string);
}
