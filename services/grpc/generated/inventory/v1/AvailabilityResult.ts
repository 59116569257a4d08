// Original file: inventory/v1/inventory.proto


export interface AvailabilityResult {
  'variant_id'?: (string);
  'requested'?: (number);
  'available'?: (number);
  'sufficient'?: (boolean);
  'warehouse_id'?: (string);
}

export interface AvailabilityResult__Output {
  'variant_id': (string);
  'requested': (number);
  'available': (number);
  'sufficient': (boolean);
  'warehouse_id': (string);
}
