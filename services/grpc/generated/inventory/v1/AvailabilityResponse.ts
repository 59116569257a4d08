// Original file: inventory/v1/inventory.proto

import type { AvailabilityResult as _inventory_v1_AvailabilityResult, AvailabilityResult__Output as _inventory_v1_AvailabilityResult__Output } from '../../inventory/v1/AvailabilityResult.ts';

export interface AvailabilityResponse {
  'all_available'?: (boolean);
  'results'?: (_inventory_v1_AvailabilityResult)[];
}

export interface AvailabilityResponse__Output {
  'all_available': (boolean);
  'results': (_inventory_v1_AvailabilityResult__Output)[];
}
