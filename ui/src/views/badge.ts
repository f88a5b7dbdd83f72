/**
 * A status shown as text with a symbol; colour only repeats what the words say, so it never carries
 * the meaning alone (the page stays readable without colour and to a screen reader).
 */
import { html } from '../html.js';

const SYMBOLS: Readonly<Record<string, string>> = {
  master: '★',
  active: '●',
  live: '●',
  completed: '✓',
  go: '✓',
  pass: '✓',
  down: '✕',
  failed: '✕',
  lost: '✕',
  'no-go': '✕',
  fail: '✕',
  cancelled: '⊘',
  handing_over: '⇄',
  fenced: '!',
  polling: '↻',
  connecting: '…',
};

export function Badge({ kind, text }: { kind: string; text?: string }) {
  const symbol = SYMBOLS[kind] ?? '◆';
  return html`<span class=${`badge badge-${kind.replace(/[^a-z_-]/g, '')}`}
    ><span aria-hidden="true">${symbol} </span>${text ?? kind}</span
  >`;
}
