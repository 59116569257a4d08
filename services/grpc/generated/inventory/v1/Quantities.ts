// Original file: inventory/v1/inventory.proto


export interface Quantities {
  'total'?: (number);
  'available'?: (number);
  'reserved'?: (number);
  'damaged'?: (number);
  'in_transit'?: (number);
  'incoming'?: (number);
}

export interface Quantities__Output {
  'total': (number);
  'available': (number);
  'reserved': (number);
  'damaged': (number);
  'in_transit': (number);
  'incoming': (number);
}
