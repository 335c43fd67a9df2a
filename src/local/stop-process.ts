/** Stopping a child process of the local stack (or of the bench): ask it to exit, wait, then insist. */
import type { ChildProcess } from 'node:child_process';

/** How long a child may take to exit after SIGTERM before it is sent SIGKILL. */
export const DEFAULT_STOP_GRACE_MS = 10_000;

/**
 * Sends SIGTERM, then SIGKILL if the child has not exited after `graceMs`; resolves once it has exited (at once
 * when it already had).
 */
export function stopProcess(child: ChildProcess, graceMs = DEFAULT_STOP_GRACE_MS): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
