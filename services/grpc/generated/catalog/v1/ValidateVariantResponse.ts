// Original file: catalog/v1/catalog.proto


export interface ValidateVariantResponse {
  'exists'?: (boolean);
  'is_active'?: (boolean);
  'tracks_inventory'?: (boolean);
  'sku'?: (string);
  'product_name'?: (string);
}

export interface ValidateVariantResponse__Output {
  'exists': (boolean);
  'is_active': (boolean);
  'tracks_inventory': (boolean);
  'sku': (string);
  'product_name': (string);
}
