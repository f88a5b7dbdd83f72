/**
 * Reads a secret from the environment once and removes it, so it is not inherited by anything this
 * process starts, printed in a diagnostic report or read by a later `process.env` dump (issue 14,
 * finding 10). The kernel's copy in /proc/<pid>/environ is the exec-time one and stays; it is
 * readable only by the same user and root.
 */
export function takeSecretFromEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  delete env[name];
  return value || undefined;
}
