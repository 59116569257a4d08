// Original file: inventory/v1/inventory.proto


export interface AvailabilityItem {
  'variant_id'?: (string);
  'quantity'?: (number);
}

export interface AvailabilityItem__Output {
  'variant_id': (string);
  'quantity': (number);
}
