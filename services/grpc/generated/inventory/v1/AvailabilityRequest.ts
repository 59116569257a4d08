// Original file: inventory/v1/inventory.proto

import type { AvailabilityItem as _inventory_v1_AvailabilityItem, AvailabilityItem__Output as _inventory_v1_AvailabilityItem__Output } from '../../inventory/v1/AvailabilityItem.ts';

export interface AvailabilityRequest {
  'organization_id'?: (string);
  'items'?: (_inventory_v1_AvailabilityItem)[];
  'preferred_warehouse_id'?: (string);
}

export interface AvailabilityRequest__Output {
  'organization_id': (string);
  'items': (_inventory_v1_AvailabilityItem__Output)[];
  'preferred_warehouse_id': (string);
}
