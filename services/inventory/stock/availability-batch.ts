import type { OneStatement } from '../organization-scope.ts';
import { availableInActiveWarehouses, type AvailableRow } from './stock.store.ts';

/** Reads the variants' rows of an organization (the one-statement availability read), shared with concurrent callers. */
export type AvailabilityReader = (
  organizationId: string,
  variantIds: string[],
  preferredWarehouseId?: string,
) => Promise<AvailableRow[]>;

/** The read alone, one statement a call: for a caller that has no concurrent calls to share it with. */
export function availabilityReader(run: OneStatement): AvailabilityReader {
  return (organizationId, variantIds, preferredWarehouseId) =>
    availableInActiveWarehouses({ organizationId, run }, variantIds, preferredWarehouseId);
}

// At most this many variant ids in one statement: a batch beyond it is read in several.
const maxVariantsPerStatement = 1000;

interface Waiting {
  variantIds: string[];
  resolve: (rows: AvailableRow[]) => void;
  reject: (error: unknown) => void;
}

/**
 * The availability read of many concurrent calls in few statements: the calls that arrive within one turn of the
 * event loop for the same organization (and the same preferred warehouse, whose check is part of the statement)
 * share one read of all their variants, and each gets its own variants' rows. Under load this turns one round
 * trip per call into one per organization and turn; alone, a call waits for nothing but the end of the turn.
 * Each call still reads a snapshot taken after it arrived, and a statement only ever binds one organization, so
 * no call sees another's rows that it could not read itself. A failed statement fails every call it served.
 */
export function batchedAvailabilityReader(run: OneStatement): AvailabilityReader {
  const pending = new Map<string, { organizationId: string; preferred?: string; waiting: Waiting[] }>();

  const flush = (key: string) => {
    const batch = pending.get(key);
    pending.delete(key);
    if (!batch) return;
    const wanted = [...new Set(batch.waiting.flatMap((w) => w.variantIds))];
    const chunks = Array.from({ length: Math.ceil(wanted.length / maxVariantsPerStatement) }, (_, i) =>
      wanted.slice(i * maxVariantsPerStatement, (i + 1) * maxVariantsPerStatement),
    );
    const read = { organizationId: batch.organizationId, run };
    Promise.all(chunks.map((ids) => availableInActiveWarehouses(read, ids, batch.preferred))).then(
      (parts) => {
        const rows = parts.flat();
        for (const w of batch.waiting) {
          const mine = new Set(w.variantIds);
          w.resolve(rows.filter((r) => mine.has(r.variantId)));
        }
      },
      (error: unknown) => {
        for (const w of batch.waiting) w.reject(error);
      },
    );
  };

  return (organizationId, variantIds, preferredWarehouseId) =>
    new Promise<AvailableRow[]>((resolve, reject) => {
      const key = `${organizationId}/${preferredWarehouseId ?? ''}`;
      let batch = pending.get(key);
      if (!batch) {
        batch = { organizationId, ...(preferredWarehouseId ? { preferred: preferredWarehouseId } : {}), waiting: [] };
        pending.set(key, batch);
        setImmediate(flush, key);
      }
      batch.waiting.push({ variantIds, resolve, reject });
    });
}
