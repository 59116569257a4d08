// Original file: inventory/v1/inventory.proto


export interface StockLevel {
  'stock_id'?: (string);
  'variant_id'?: (string);
  'warehouse_id'?: (string);
  'total_quantity'?: (number);
  'available_quantity'?: (number);
  'reserved_quantity'?: (number);
  'damaged_quantity'?: (number);
  'in_transit_quantity'?: (number);
  'incoming_quantity'?: (number);
  'min_stock'?: (number);
  'max_stock'?: (number);
  'reorder_point'?: (number);
  'version'?: (number);
  'updated_at'?: (string);
  'total'?: (number);
  'available'?: (number);
  'reserved'?: (number);
  'damaged'?: (number);
  'in_transit'?: (number);
  'incoming'?: (number);
}

export interface StockLevel__Output {
  'stock_id': (string);
  'variant_id': (string);
  'warehouse_id': (string);
  'total_quantity': (number);
  'available_quantity': (number);
  'reserved_quantity': (number);
  'damaged_quantity': (number);
  'in_transit_quantity': (number);
  'incoming_quantity': (number);
  'min_stock': (number);
  'max_stock': (number);
  'reorder_point': (number);
  'version': (number);
  'updated_at': (string);
  'total': (number);
  'available': (number);
  'reserved': (number);
  'damaged': (number);
  'in_transit': (number);
  'incoming': (number);
}
