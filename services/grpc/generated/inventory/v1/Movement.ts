// Original file: inventory/v1/inventory.proto

import type { Quantities as _inventory_v1_Quantities, Quantities__Output as _inventory_v1_Quantities__Output } from '../../inventory/v1/Quantities.ts';
import type { Reference as _inventory_v1_Reference, Reference__Output as _inventory_v1_Reference__Output } from '../../inventory/v1/Reference.ts';

export interface Movement {
  'movement_id'?: (string);
  'variant_id'?: (string);
  'warehouse_id'?: (string);
  'type'?: (string);
  'deltas'?: (_inventory_v1_Quantities | null);
  'after'?: (_inventory_v1_Quantities | null);
  'reason'?: (string);
  'reference_type'?: (string);
  'reference_id'?: (string);
  'actor'?: (string);
  'created_at'?: (string);
  'operation_key'?: (string);
  'reference'?: (_inventory_v1_Reference | null);
  'order_id'?: (string);
  'reason_code'?: (string);
  'purchase_order_id'?: (string);
}

export interface Movement__Output {
  'movement_id': (string);
  'variant_id': (string);
  'warehouse_id': (string);
  'type': (string);
  'deltas': (_inventory_v1_Quantities__Output | null);
  'after': (_inventory_v1_Quantities__Output | null);
  'reason': (string);
  'reference_type': (string);
  'reference_id': (string);
  'actor': (string);
  'created_at': (string);
  'operation_key': (string);
  'reference': (_inventory_v1_Reference__Output | null);
  'order_id': (string);
  'reason_code': (string);
  'purchase_order_id': (string);
}
