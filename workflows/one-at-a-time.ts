import { condition } from '@temporalio/workflow';

/**
 * Runs a workflow's stock-changing handlers one at a time (and never alongside its timers' work):
 * Temporal may interleave update handlers at every await, and two steps on the same stock must not.
 */
export function oneAtATime() {
  let busy = false;
  return {
    get busy(): boolean {
      return busy;
    },
    async run<T>(fn: () => Promise<T>): Promise<T> {
      await condition(() => !busy);
      busy = true;
      try {
        return await fn();
      } finally {
        busy = false;
      }
    },
  };
}
