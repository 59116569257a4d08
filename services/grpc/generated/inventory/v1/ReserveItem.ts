// Original file: inventory/v1/inventory.proto


export interface ReserveItem {
  'variant_id'?: (string);
  'quantity'?: (number);
  'warehouse_id'?: (string);
}

export interface ReserveItem__Output {
  'variant_id': (string);
  'quantity': (number);
  'warehouse_id': (string);
}
