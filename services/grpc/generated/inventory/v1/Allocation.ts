// Original file: inventory/v1/inventory.proto


export interface Allocation {
  'variant_id'?: (string);
  'warehouse_id'?: (string);
  'quantity'?: (number);
}

export interface Allocation__Output {
  'variant_id': (string);
  'warehouse_id': (string);
  'quantity': (number);
}
