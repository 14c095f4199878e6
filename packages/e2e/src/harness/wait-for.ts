import { setTimeout as delay } from 'node:timers/promises';

export interface WaitForOptions {
  /** Deadline in ms (default 10 s). */
  timeoutMs?: number;
  /** Pause between probes in ms (default 50). */
  intervalMs?: number;
  /** What is being waited for, for the timeout message. */
  message?: string;
}

/**
 * For the harness and the local command (code outside a test): tests wait
 * with Vitest's `expect.poll` / `vi.waitFor` instead.
 * Polls `probe` until it returns a truthy value and resolves with it. A probe
 * that throws counts as "not yet" (the server may be restarting); on timeout
 * the error quotes the last value or error so a failure says what was seen.
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
      last = value;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const seen =
        lastError !== undefined
          ? `last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`
          : `last value: ${JSON.stringify(last)}`;
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${options.message ?? 'condition'} (${seen})`,
      );
    }
    await delay(intervalMs);
  }
}
