// Original file: inventory/v1/inventory.proto

import type { ReserveItem as _inventory_v1_ReserveItem, ReserveItem__Output as _inventory_v1_ReserveItem__Output } from '../../inventory/v1/ReserveItem.ts';

export interface ReserveStockRequest {
  'organization_id'?: (string);
  'order_id'?: (string);
  'items'?: (_inventory_v1_ReserveItem)[];
  'preferred_warehouse_id'?: (string);
  'ttl_minutes'?: (number);
  'ttl_seconds'?: (number);
  'customer_id'?: (string);
  'lines'?: (_inventory_v1_ReserveItem)[];
}

export interface ReserveStockRequest__Output {
  'organization_id': (string);
  'order_id': (string);
  'items': (_inventory_v1_ReserveItem__Output)[];
  'preferred_warehouse_id': (string);
  'ttl_minutes': (number);
  'ttl_seconds': (number);
  'customer_id': (string);
  'lines': (_inventory_v1_ReserveItem__Output)[];
}
