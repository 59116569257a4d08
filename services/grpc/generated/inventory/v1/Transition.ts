// Original file: inventory/v1/inventory.proto


export interface Transition {
  'status'?: (string);
  'at'?: (string);
  'reason'?: (string);
}

export interface Transition__Output {
  'status': (string);
  'at': (string);
  'reason': (string);
}
