/**
 * What no layer behind the edge can take: a NUL character (PostgreSQL cannot store it in text) and
 * JSON nested deeper than any request of this service needs (every walk over it, ours or a library's,
 * would be a stack to overflow). Checked at every edge (REST, gRPC, consumed events) so such input is
 * a clear client error and never reaches a transaction or an activity that would fail on it again and again.
 */
export const maxNesting = 32;

export interface Unacceptable {
  /** Where, as a.b[2].c. */
  field: string;
  problem: string;
}

/** The first place in the value that holds a NUL character or nests too deep; iterative, so any depth is safe to walk. */
export function findUnacceptable(value: unknown): Unacceptable | undefined {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: '', depth: 0 }];
  for (let entry = stack.pop(); entry !== undefined; entry = stack.pop()) {
    const { value: node, path, depth } = entry;
    if (typeof node === 'string') {
      if (node.includes('\u0000')) return { field: path || 'value', problem: 'NUL characters are not allowed' };
      continue;
    }
    if (typeof node !== 'object' || node === null) continue;
    if (depth >= maxNesting) return { field: path || 'value', problem: `nested deeper than ${maxNesting} levels` };
    const entries: [string, unknown][] = Array.isArray(node)
      ? node.map((item, i) => [`${path}[${i}]`, item])
      : Object.entries(node).map(([key, item]) => [path ? `${path}.${key}` : key, item]);
    for (const [childPath, child] of entries) {
      if (childPath.includes('\u0000'))
        return { field: childPath.replaceAll('\u0000', '\\0'), problem: 'NUL characters are not allowed' };
      stack.push({ value: child, path: childPath, depth: depth + 1 });
    }
  }
  return undefined;
}
