// Original file: inventory/v1/inventory.proto


export interface HistoryRequest {
  'organization_id'?: (string);
  'variant_id'?: (string);
  'warehouse_id'?: (string);
  'from'?: (string);
  'to'?: (string);
  'page_size'?: (number);
  'page_token'?: (string);
}

export interface HistoryRequest__Output {
  'organization_id': (string);
  'variant_id': (string);
  'warehouse_id': (string);
  'from': (string);
  'to': (string);
  'page_size': (number);
  'page_token': (string);
}
