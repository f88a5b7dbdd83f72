/** Bosun's typed REST client. */
export * from './client.js';
export * from './errors.js';
export { fetchCertificateFingerprint, isUntrustedCertificate, normalizeFingerprint } from './transport.js';
export * from './types.js';
export { watchRun } from './run-stream.js';
export type { SseEvent } from './sse-parser.js';
