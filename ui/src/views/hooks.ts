/** Small hooks shared by the views. */
import { useEffect, useReducer, useState } from 'preact/hooks';

import type { Model } from '../model.js';

/** Re-renders the caller whenever the model changes. */
export function useModel(model: Model): void {
  const [, bump] = useReducer((n: number, _: undefined) => n + 1, 0);
  useEffect(() => model.subscribe(() => bump(undefined)), [model]);
}

/** The current time, ticking every second: for "held for" and uptimes (no server round trip). */
export function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  return now;
}

/** The location hash as a route: `#/users` → ['users']. */
export function useRoute(): string[] {
  const read = () =>
    location.hash
      .replace(/^#\/?/, '')
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}
