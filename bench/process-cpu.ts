/**
 * CPU time the machine's processes used, grouped by what they are, read from Linux's /proc: where an
 * operation's cost goes when everything (Temporal, PostgreSQL, the service, the load) shares two cores.
 * A process that ends between two readings takes its time with it, so read it over a steady load on a machine
 * doing nothing else.
 */
import { readdirSync, readFileSync } from 'node:fs';

export const processGroups = ['temporal', 'postgres', 'node', 'other'] as const;
export type ProcessGroup = (typeof processGroups)[number];
export type CpuByGroup = Record<ProcessGroup, number>;

// /proc/<pid>/stat counts in clock ticks: 100 a second on Linux (USER_HZ).
const msPerTick = 10;

/** CPU milliseconds (user + system, every thread) each group of processes has used so far. */
export function cpuByProcessGroup(): CpuByGroup {
  const used: CpuByGroup = { temporal: 0, postgres: 0, node: 0, other: 0 };
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return used; // no /proc: the figures stay 0
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // ended since the listing
    }
    // The command name is in parentheses and may hold spaces; the fields after it are space-separated.
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    used[groupOf(name)] += ticks * msPerTick;
  }
  return used;
}

/** CPU milliseconds per operation of each group, between two readings spanning `operations` operations. */
export function cpuPerOperation(before: CpuByGroup, after: CpuByGroup, operations: number) {
  const per = (group: ProcessGroup) => Math.round(((after[group] - before[group]) / operations) * 100) / 100;
  const byGroup = Object.fromEntries(processGroups.map((g) => [g, per(g)])) as CpuByGroup;
  const total = Math.round(processGroups.reduce((sum, g) => sum + byGroup[g], 0) * 100) / 100;
  return { ...byGroup, total };
}

function groupOf(name: string): ProcessGroup {
  if (name.startsWith('temporal')) return 'temporal';
  if (name.startsWith('postgres')) return 'postgres';
  // Node's main thread names the process `node` (`MainThread` in some builds).
  if (name === 'node' || name === 'MainThread') return 'node';
  return 'other';
}
