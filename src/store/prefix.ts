/**
 * The smallest string greater than every string that starts with `prefix`, for range scans
 * (etcd's "range end"). Keys here are ASCII paths, so bumping the last code unit is exact.
 */
export function prefixEnd(prefix: string): string {
  if (prefix.length === 0) return '\uffff';
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}
