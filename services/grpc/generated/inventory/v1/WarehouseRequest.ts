// Original file: inventory/v1/inventory.proto


export interface WarehouseRequest {
  'organization_id'?: (string);
  'warehouse_id'?: (string);
  'page_size'?: (number);
  'page_token'?: (string);
}

export interface WarehouseRequest__Output {
  'organization_id': (string);
  'warehouse_id': (string);
  'page_size': (number);
  'page_token': (string);
}
