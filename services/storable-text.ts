/**
 * What PostgreSQL cannot store in a text column: the NUL character. Checked at every edge (REST, gRPC,
 * consumed events) so such input is a clear client error and never reaches a transaction or an
 * activity that would fail on it again and again.
 */
export function unstorableTextPath(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path || 'value' : undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = unstorableTextPath(item, `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes('\u0000')) return path ? `${path}.${key.replaceAll('\u0000', '\\0')}` : key.replaceAll('\u0000', '\\0');
      const found = unstorableTextPath(item, path ? `${path}.${key}` : key);
      if (found) return found;
    }
  }
  return undefined;
}
