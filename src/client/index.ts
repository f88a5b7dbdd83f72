/** Bosun's typed REST client. */
export * from './client.js';
export * from './errors.js';
export { fetchCertificateFingerprint, isUntrustedCertificate, normalizeFingerprint } from './transport.js';
export * from './types.js';
