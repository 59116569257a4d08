import type { MovementType } from '../vocabulary.ts';

/**
 * Why an operator adjusts stock, and the ledger movement each reason writes. Stored in
 * stock_movement.reason_code (a check constraint lists these), next to the operator's free note in `reason`.
 */
export const reasonCodes = ['cycle_count', 'receipt', 'damage', 'loss', 'found', 'return', 'correction'] as const;
export type ReasonCode = (typeof reasonCodes)[number];

export const movementTypeOf: Record<ReasonCode, MovementType> = {
  cycle_count: 'adjustment',
  receipt: 'receipt',
  damage: 'damage',
  loss: 'loss',
  found: 'found',
  return: 'return',
  correction: 'adjustment',
};
