/** One way of getting a serialized event to a collector. */
export interface Transport {
  readonly name: 'http' | 'udp';
  /** Resolves once the collector accepted (HTTP 2xx) or the datagram left; rejects otherwise. */
  send(body: string): Promise<void>;
  /** Cancels everything in flight (the drain bound has passed). */
  abortAll(): void;
  /** Releases sockets. */
  close(): void;
}

/** Debug-level logger; delivery problems are only ever reported here. */
export type DebugLog = (message: string, fields?: Record<string, unknown>) => void;

/** A logger that drops everything. */
export const silentLog: DebugLog = () => {};
