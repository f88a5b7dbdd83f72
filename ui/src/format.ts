/** Plain-text renderings of numbers and times. */

export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

export function time(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toLocaleString();
}

export function ms(v: unknown): string {
  return typeof v === 'number' ? `${v} ms` : '–';
}

/** A scalar from an API object as text; anything else (absent, an object) as the fallback. */
export function text(v: unknown, fallback = '–'): string {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : fallback;
}
