/**
 * Resident memory of processes, read from Linux's /proc: a process's own (VmRSS), and the machine's shared
 * services (PostgreSQL, RabbitMQ), found by their command names since this benchmark did not start them.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** A process's resident set in KiB (VmRSS), or undefined once it is gone (or on a system without /proc). */
export function residentKiB(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] === undefined ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

/** The machine's services the benchmark shares with everyone else, by the names their processes run under. */
const sharedServices = {
  postgresql: ['postgres'],
  rabbitmq: ['beam.smp', 'epmd', 'erl_child_setup'],
} as const;

export interface SharedServiceMemory {
  processes: number;
  /**
   * The sum of their resident sets. For PostgreSQL this counts the shared buffers once per backend that
   * touched them, so it overstates what the server holds; it is comparable between two readings.
   */
  residentKiB: number;
}

/** Every process of each shared service, whoever started it (other people's tests use the same servers). */
export function sharedServiceMemory(): Record<keyof typeof sharedServices, SharedServiceMemory> {
  const byName = new Map<string, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const name = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      byName.set(name, [...(byName.get(name) ?? []), Number(entry)]);
    } catch {
      // Gone between the listing and the read.
    }
  }
  const measure = (names: readonly string[]): SharedServiceMemory => {
    const pids = names.flatMap((name) => byName.get(name) ?? []);
    return { processes: pids.length, residentKiB: pids.reduce((sum, pid) => sum + (residentKiB(pid) ?? 0), 0) };
  };
  return { postgresql: measure(sharedServices.postgresql), rabbitmq: measure(sharedServices.rabbitmq) };
}
