// Original file: catalog/v1/catalog.proto


export interface ValidateVariantRequest {
  'organization_id'?: (string);
  'variant_id'?: (string);
}

export interface ValidateVariantRequest__Output {
  'organization_id': (string);
  'variant_id': (string);
}
