// Original file: inventory/v1/inventory.proto


export interface Reference {
  'type'?: (string);
  'id'?: (string);
}

export interface Reference__Output {
  'type': (string);
  'id': (string);
}
