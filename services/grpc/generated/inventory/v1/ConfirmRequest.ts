// Original file: inventory/v1/inventory.proto


export interface ConfirmRequest {
  'organization_id'?: (string);
  'reservation_id'?: (string);
  'order_id'?: (string);
}

export interface ConfirmRequest__Output {
  'organization_id': (string);
  'reservation_id': (string);
  'order_id': (string);
}
