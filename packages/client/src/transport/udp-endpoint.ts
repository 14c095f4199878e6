/** A parsed `host:port` UDP endpoint. */
export interface UdpEndpoint {
  host: string;
  port: number;
}

/**
 * Parses `host:port`, `[v6]:port` or `v4:port`. Returns undefined for
 * anything else so config validation can name the key.
 */
export function parseUdpEndpoint(text: string): UdpEndpoint | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  const host = m[1] ?? m[2];
  return host ? { host, port } : undefined;
}
