/**
 * What a node process tells the process that started it, over IPC when it has one: the local-cluster
 * launcher (launcher/local-cluster.ts) reads these; `bosun node` (cli/node-command.ts) sends them.
 */
export type NodeMessage =
  | { type: 'ready'; uid: number; httpPort: number; httpsPort: number; fingerprint: string }
  | { type: 'master'; uid: number; masterUid: number | undefined; epoch: number | undefined }
  | { type: 'admin'; email: string; password: string; generated: boolean }
  /** The node could not start; `reason` is one line, for the launcher's terminal. */
  | { type: 'failed'; uid: number; reason: string };
