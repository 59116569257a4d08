// Original file: inventory/v1/inventory.proto

import type { Movement as _inventory_v1_Movement, Movement__Output as _inventory_v1_Movement__Output } from '../../inventory/v1/Movement.ts';

export interface HistoryResponse {
  'movements'?: (_inventory_v1_Movement)[];
  'next_page_token'?: (string);
}

export interface HistoryResponse__Output {
  'movements': (_inventory_v1_Movement__Output)[];
  'next_page_token': (string);
}
