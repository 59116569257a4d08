// Original file: inventory/v1/inventory.proto

import type { Allocation as _inventory_v1_Allocation, Allocation__Output as _inventory_v1_Allocation__Output } from '../../inventory/v1/Allocation.ts';

export interface ReserveStockResponse {
  'success'?: (boolean);
  'reservation_id'?: (string);
  'status'?: (string);
  'expires_at'?: (string);
  'allocations'?: (_inventory_v1_Allocation)[];
  'error_message'?: (string);
}

export interface ReserveStockResponse__Output {
  'success': (boolean);
  'reservation_id': (string);
  'status': (string);
  'expires_at': (string);
  'allocations': (_inventory_v1_Allocation__Output)[];
  'error_message': (string);
}
