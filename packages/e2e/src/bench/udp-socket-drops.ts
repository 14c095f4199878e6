import { readFileSync } from 'node:fs';

/**
 * Datagrams the kernel dropped for the UDP socket bound to `port` (the last
 * column of `/proc/net/udp` and `/proc/net/udp6`): what a full receive buffer
 * lost before the process could read it. Together with the forwarder's own
 * counters this makes "sent = received + kernel drops" checkable exactly.
 * Returns undefined where /proc is not available.
 */
export function udpSocketDrops(port: number): number | undefined {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let found = false;
  let drops = 0;
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      if (!local?.endsWith(`:${hexPort}`)) continue;
      found = true;
      drops += Number(cols[cols.length - 1] ?? 0);
    }
  }
  return found ? drops : undefined;
}
