import {
  ApplicationFailure,
  continueAsNew,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { failureTypes } from '../services/inventory/vocabulary.ts';
import {
  reconciliationLimits,
  reconciliationProgressQuery,
  type ReconciliationInput,
  type ReconciliationProgress,
  type ReconciliationResult,
} from './reconciliation-definitions.ts';
import { OrganizationId } from './search-attributes.ts';
import { localStepOptions, pageOptions, stepOptions } from './activity-options.ts';
import { failedForGood } from './step-failures.ts';
import type { StockDrift } from '../services/inventory/vocabulary.ts';

// Recording a run's start and end is one short statement: since chunks, a local activity inside the workflow task
// that needs it (no activity task, no second workflow task). A chunk rebuilds tens of thousands of rows from their
// whole ledger and the list of organizations scans the stock table: those get longer, heartbeating attempts.
const activities = proxyActivities<Activities>(stepOptions);
const local = proxyLocalActivities<Activities>(localStepOptions);
const pages = proxyActivities<Activities>(pageOptions);

/** One page of the drift scan, as the scanning activity of reconciliations started before chunks answers it. */
type ScannedPage = Awaited<ReturnType<Activities['scanStockForDrift']>>;
/** One chunk of the drift scan, as the scanning activity answers it. */
type ScannedChunk = Awaited<ReturnType<Activities['scanStockChunkForDrift']>>;

const { pageSize, chunkSize, reportedDrifts, organizationsPerPage, defaultSettleSeconds } = reconciliationLimits;

/**
 * Rebuilds stock rows from the ledger and the open reservations and transfers, and reports every row
 * that differs (`inventory.stock.drift_detected`, the stock_drift table and this workflow's result).
 * It changes no stock unless `repair` is asked. With an organization (REST, on demand) it reconciles
 * that one; without (the nightly Temporal Schedule) every organization with stock, one after the other.
 * Drift seen on the first pass is checked again after `settleSeconds`, so a saga caught between two
 * steps is not reported. An organization whose run fails is recorded as failed; the others go on, and
 * the workflow then fails with ReconciliationFailedError naming them.
 */
export async function reconciliationWorkflow(input: ReconciliationInput = {}): Promise<ReconciliationResult> {
  const progress: ReconciliationProgress = input.resume ?? {
    phase: 'scanning',
    organizationsChecked: 0,
    rowsChecked: 0,
    drifted: 0,
    repaired: 0,
    lastOrganizationId: null,
    reports: [],
    failures: [],
  };
  setHandler(reconciliationProgressQuery, () => progress);

  if (input.organizationId) {
    upsertSearchAttributes([{ key: OrganizationId, value: input.organizationId }]);
    await reconcile(input, progress, input.organizationId, input.reconciliationId ?? uuid4());
  } else {
    for (;;) {
      const organizations = await pages.listOrganizationsToReconcile(progress.lastOrganizationId, organizationsPerPage);
      for (const organizationId of organizations) {
        await reconcile(input, progress, organizationId, uuid4());
        progress.lastOrganizationId = organizationId;
        if (workflowInfo().continueAsNewSuggested) {
          await continueAsNew<typeof reconciliationWorkflow>({ ...input, resume: progress });
        }
      }
      if (organizations.length < organizationsPerPage) break;
    }
  }
  progress.phase = 'done';
  if (progress.failures.length > 0) {
    const failed = progress.failures.map((f) => `organization ${f.organizationId} (${f.failure})`);
    throw ApplicationFailure.create({
      type: failureTypes.ReconciliationFailedError,
      nonRetryable: true,
      message: `reconciliation failed for ${failed.join('; ')}`,
      details: [progress],
    });
  }
  const { phase: _phase, lastOrganizationId: _last, ...result } = progress;
  return result;
}

/**
 * Reconciles one organization: records the run, finds and confirms its drift, records how it ended and
 * adds it to `progress`. A run that fails for good is recorded as failed and listed in `progress.failures`.
 */
async function reconcile(
  input: ReconciliationInput,
  progress: ReconciliationProgress,
  organizationId: string,
  reconciliationId: string,
): Promise<void> {
  const repair = input.repair ?? false;
  const trigger = input.trigger ?? (input.organizationId ? 'request' : 'schedule');
  const { workflowId } = workflowInfo();
  // Workflows started before chunks scan in 500-row pages and record the run's start and end as activities.
  const chunked = patched('reconciliation-chunks');
  const steps = chunked ? local : activities;
  await steps.beginReconciliation(organizationId, {
    reconciliationId,
    trigger,
    repair,
    requestedBy: input.requestedBy,
    workflowId,
  });
  const found = { rowsChecked: 0, drifts: [] as StockDrift[] };
  try {
    const candidates = await scan(progress, organizationId, found, chunked);
    await confirm(input, progress, organizationId, reconciliationId, candidates, found.drifts);
  } catch (error) {
    // A domain failure, invalid data, or a page whose bounded retries ran out: this organization failed.
    const cause = failedForGood(error);
    const failure = `${cause.type}: ${cause.message}`;
    const { rowsChecked, drifts } = found;
    await steps.finishReconciliation(organizationId, {
      reconciliationId,
      status: 'failed',
      rowsChecked,
      drifted: drifts.length,
      repaired: drifts.filter((d) => d.repaired).length,
      failure,
    });
    progress.failures.push({ organizationId, reconciliationId, failure });
    return;
  }
  const { rowsChecked, drifts } = found;
  const repaired = drifts.filter((d) => d.repaired).length;
  await steps.finishReconciliation(organizationId, {
    reconciliationId,
    status: 'completed',
    rowsChecked,
    drifted: drifts.length,
    repaired,
  });
  progress.organizationsChecked += 1;
  progress.drifted += drifts.length;
  progress.repaired += repaired;
  // A nightly result keeps only the organizations with drift, so its size does not grow with their number.
  if (drifts.length > 0 || input.organizationId) {
    const kept = drifts.slice(0, reportedDrifts);
    const drifted = drifts.length;
    progress.reports.push({ reconciliationId, organizationId, repair, rowsChecked, drifted, repaired, drifts: kept });
  }
}

/**
 * The first pass: every stock row of the organization, a chunk of up to `chunkSize` rows per activity (one
 * statement each); returns the ids that look drifted. Workflows started before chunks keep their 500-row pages.
 */
async function scan(
  progress: ReconciliationProgress,
  organizationId: string,
  found: { rowsChecked: number },
  chunked: boolean,
): Promise<string[]> {
  progress.phase = 'scanning';
  const candidates: string[] = [];
  const add = (checked: number, drifted: string[]) => {
    found.rowsChecked += checked;
    progress.rowsChecked += checked;
    candidates.push(...drifted);
  };
  if (chunked) {
    let after: ScannedChunk['last'] = null;
    do {
      const chunk: ScannedChunk = await pages.scanStockChunkForDrift(organizationId, after, chunkSize);
      add(chunk.checked, chunk.candidates);
      after = chunk.last;
    } while (after);
    return candidates;
  }
  let after: string | null = null;
  do {
    const page: ScannedPage = await pages.scanStockForDrift(organizationId, after, pageSize);
    add(page.checked, page.candidates);
    after = page.last;
  } while (after);
  return candidates;
}

/** After `settleSeconds`, checks the candidates again and records (and, if asked, repairs) what still drifts. */
async function confirm(
  input: ReconciliationInput,
  progress: ReconciliationProgress,
  organizationId: string,
  reconciliationId: string,
  candidates: string[],
  drifts: StockDrift[],
): Promise<void> {
  const settleSeconds = input.settleSeconds ?? defaultSettleSeconds;
  if (candidates.length > 0 && settleSeconds > 0) {
    progress.phase = 'settling';
    await sleep(settleSeconds * 1000);
  }
  progress.phase = 'confirming';
  for (let i = 0; i < candidates.length; i += pageSize) {
    const batch = candidates.slice(i, i + pageSize);
    drifts.push(...(await pages.recordStockDrift(organizationId, reconciliationId, batch, input.repair ?? false)));
  }
}
