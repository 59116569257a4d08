// Original file: inventory/v1/inventory.proto

import type { ReserveItem as _inventory_v1_ReserveItem, ReserveItem__Output as _inventory_v1_ReserveItem__Output } from '../../inventory/v1/ReserveItem.ts';
import type { Allocation as _inventory_v1_Allocation, Allocation__Output as _inventory_v1_Allocation__Output } from '../../inventory/v1/Allocation.ts';
import type { Transition as _inventory_v1_Transition, Transition__Output as _inventory_v1_Transition__Output } from '../../inventory/v1/Transition.ts';

export interface Reservation {
  'reservation_id'?: (string);
  'organization_id'?: (string);
  'order_id'?: (string);
  'status'?: (string);
  'items'?: (_inventory_v1_ReserveItem)[];
  'allocations'?: (_inventory_v1_Allocation)[];
  'expires_at'?: (string);
  'transitions'?: (_inventory_v1_Transition)[];
  'release_reason'?: (string);
  'lines'?: (_inventory_v1_ReserveItem)[];
}

export interface Reservation__Output {
  'reservation_id': (string);
  'organization_id': (string);
  'order_id': (string);
  'status': (string);
  'items': (_inventory_v1_ReserveItem__Output)[];
  'allocations': (_inventory_v1_Allocation__Output)[];
  'expires_at': (string);
  'transitions': (_inventory_v1_Transition__Output)[];
  'release_reason': (string);
  'lines': (_inventory_v1_ReserveItem__Output)[];
}
