import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const PROC_NET_UDP = ['/proc/net/udp', '/proc/net/udp6'];

/** One socket row of `/proc/net/udp{,6}`: its local port, inode and drop count. */
export interface UdpSocketRow {
  localPort: number;
  inode: number;
  drops: number;
}

/**
 * Parses `/proc/net/udp` or `/proc/net/udp6` text. Columns: `sl local_address
 * rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ref
 * pointer drops`; the local address ends in `:<port in hex>`, and `drops` is
 * what the kernel discarded for that socket, mostly because its receive
 * buffer was full.
 */
export function parseProcNetUdp(text: string): UdpSocketRow[] {
  const rows: UdpSocketRow[] = [];
  for (const line of text.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 13) continue;
    const port = Number.parseInt(cols[1]?.split(':').pop() ?? '', 16);
    const inode = Number(cols[9]);
    const drops = Number(cols[cols.length - 1]);
    if (Number.isInteger(port) && Number.isInteger(inode) && Number.isFinite(drops)) {
      rows.push({ localPort: port, inode, drops });
    }
  }
  return rows;
}

/** Inodes of this process's sockets (`/proc/self/fd/* -> socket:[inode]`); empty where unreadable. */
export function ownSocketInodes(): Set<number> {
  const inodes = new Set<number>();
  let fds: string[];
  try {
    fds = readdirSync('/proc/self/fd');
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) inodes.add(Number(m[1]));
    } catch {
      // Closed between readdir and readlink.
    }
  }
  return inodes;
}

/**
 * Datagrams the kernel dropped for the UDP socket(s) bound to `port`, summed
 * over `/proc/net/udp` and `/proc/net/udp6`: what a full receive buffer lost
 * before the process could read it, which no counter inside the process can
 * see. With `inodes`, only those sockets count (the forwarder passes its own,
 * so another process on the same port is not mistaken for it). Undefined where
 * `/proc` is not available or no such socket exists.
 */
export function udpSocketDrops(port: number, inodes?: ReadonlySet<number>): number | undefined {
  let found = false;
  let drops = 0;
  for (const file of PROC_NET_UDP) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const row of parseProcNetUdp(text)) {
      if (row.localPort !== port) continue;
      if (inodes !== undefined && inodes.size > 0 && !inodes.has(row.inode)) continue;
      found = true;
      drops += row.drops;
    }
  }
  return found ? drops : undefined;
}
