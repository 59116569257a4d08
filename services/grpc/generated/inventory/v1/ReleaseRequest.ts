// Original file: inventory/v1/inventory.proto


export interface ReleaseRequest {
  'organization_id'?: (string);
  'reservation_id'?: (string);
  'order_id'?: (string);
  'reason'?: (string);
}

export interface ReleaseRequest__Output {
  'organization_id': (string);
  'reservation_id': (string);
  'order_id': (string);
  'reason': (string);
}
