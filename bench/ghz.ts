/**
 * The same calls through ghz (https://ghz.sh), a standard gRPC load tool written in Go, beside the bench's own Node
 * load client: what a caller sees without a Node client's cost on the same two cores. `scripts/toolchain.sh` builds
 * it once (INVENTORY_NEEDS_GHZ=1, as `npm run bench` asks) and names it in GHZ_PATH; without it the figures are
 * reported as skipped. It finds the methods through the server's reflection.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Stats } from './stats.ts';

export interface GhzJob {
  address: string;
  /** `Service.Method`, e.g. `inventory.v1.InventoryService.CheckAvailability`. */
  call: string;
  /** The request as JSON; ghz fills templates such as `{{.RequestNumber}}` per call. */
  data: object;
  token: string;
  total: number;
  concurrency: number;
}

/** ghz's JSON report, the fields read here (durations in nanoseconds). */
interface GhzReport {
  count: number;
  total: number;
  rps: number;
  latencyDistribution: { percentage: number; latency: number }[] | null;
  statusCodeDistribution: Record<string, number>;
}

/** Runs `job` through ghz; throws with ghz's status counts when any call did not answer OK. */
export async function ghzLoad(ghzPath: string, job: GhzJob): Promise<Stats> {
  const { stdout } = await promisify(execFile)(
    ghzPath,
    [
      '--insecure',
      '--call',
      job.call,
      '--data',
      JSON.stringify(job.data),
      '--metadata',
      JSON.stringify({ authorization: `Bearer ${job.token}` }),
      '--total',
      String(job.total),
      '--concurrency',
      String(job.concurrency),
      '--format',
      'json',
      job.address,
    ],
    { maxBuffer: 16 << 20 },
  );
  const report = JSON.parse(stdout) as GhzReport;
  const notOk = Object.entries(report.statusCodeDistribution).filter(([status]) => status !== 'OK');
  if (notOk.length > 0) throw new Error(`ghz: calls answered ${JSON.stringify(Object.fromEntries(notOk))}`);
  const ms = (percentage: number) =>
    Math.round((report.latencyDistribution?.find((d) => d.percentage === percentage)?.latency ?? Number.NaN) / 1e4) /
    100;
  return {
    requests: report.count,
    seconds: Math.round(report.total / 1e7) / 100,
    throughput: Math.round(report.rps * 10) / 10,
    p50: ms(50),
    p95: ms(95),
    p99: ms(99),
  };
}
