// Original file: inventory/v1/inventory.proto

import type { StockLevel as _inventory_v1_StockLevel, StockLevel__Output as _inventory_v1_StockLevel__Output } from '../../inventory/v1/StockLevel.ts';

export interface WarehouseStockResponse {
  'warehouse_id'?: (string);
  'items'?: (_inventory_v1_StockLevel)[];
  'next_page_token'?: (string);
}

export interface WarehouseStockResponse__Output {
  'warehouse_id': (string);
  'items': (_inventory_v1_StockLevel__Output)[];
  'next_page_token': (string);
}
