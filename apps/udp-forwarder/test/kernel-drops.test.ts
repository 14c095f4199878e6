import dgram from 'node:dgram';
import { metric } from '@runmat-telemetry/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createForwarder,
  loadForwarderConfig,
  ownSocketInodes,
  parseProcNetUdp,
  udpSocketDrops,
} from '../src/index.ts';
import { TestWorker } from './helpers/test-worker.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

// Two sockets on 7846 (one IPv4, one IPv6) and one elsewhere, as the kernel prints them.
const PROC_NET_UDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  123: 00000000:1EA6 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 4242 2 0000000000000000 17
  124: 0100007F:D84B 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 999 2 0000000000000000 5
`;
const PROC_NET_UDP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  200: 00000000000000000000000000000000:1EA6 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 4343 2 0000000000000000 3
`;

describe('kernel UDP receive-buffer drops', () => {
  it('parses /proc/net/udp and /proc/net/udp6 rows: local port, inode, drops', () => {
    expect(parseProcNetUdp(PROC_NET_UDP)).toEqual([
      { localPort: 7846, inode: 4242, drops: 17 },
      { localPort: 0xd84b, inode: 999, drops: 5 },
    ]);
    expect(parseProcNetUdp(PROC_NET_UDP6)).toEqual([{ localPort: 7846, inode: 4343, drops: 3 }]);
    expect(parseProcNetUdp('header only\n\n')).toEqual([]);
  });

  it('finds this process own socket and reads its drop count', async () => {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
    const { port } = socket.address();
    expect(udpSocketDrops(port)).toBe(0);
    expect(udpSocketDrops(port, ownSocketInodes())).toBe(0);
    // Another process's socket (an inode that is not ours) is not counted.
    expect(udpSocketDrops(port, new Set([1]))).toBeUndefined();
  });

  it('exports runmat_forwarder_udp_kernel_drops_total: every datagram sent is received or a kernel drop', async () => {
    const worker = new TestWorker();
    await worker.listen(0);
    cleanups.push(() => worker.close());
    const config = loadForwarderConfig({
      UDP_HOST: '127.0.0.1',
      UDP_PORT: '0',
      HEALTH_HOST: '127.0.0.1',
      HEALTH_PORT: '0',
      TELEMETRY_HTTP_ENDPOINT: worker.url,
      TELEMETRY_INGESTION_KEY: 'test-ingestion-key',
      LOG_LEVEL: 'silent',
      // The smallest buffer the forwarder accepts, so a burst overflows it.
      UDP_RECV_BUFFER_BYTES: String(64 * 1024),
    });
    const forwarder = createForwarder(config);
    const { udpPort, healthPort } = await forwarder.start();
    cleanups.push(() => forwarder.stop());
    const scrape = async () => (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
    const before = await scrape();
    expect(before).toContain('# TYPE runmat_forwarder_udp_kernel_drops_total counter');
    expect(metric(before, 'runmat_forwarder_udp_kernel_drops_total')).toBe(0);
    expect(metric(before, 'runmat_delivery_capacity_events')).toBe(config.queueMaxEvents);
    expect(metric(before, 'runmat_delivery_capacity_bytes')).toBe(config.queueMaxBytes);

    // Sent in one synchronous burst: the forwarder, on this same event loop,
    // cannot read its socket until the burst is over, so the kernel drops
    // whatever does not fit in the receive buffer (by construction, not by rate).
    const sender = dgram.createSocket('udp4');
    cleanups.push(() => new Promise<void>((resolve) => sender.close(() => resolve())));
    await new Promise<void>((resolve) => sender.connect(udpPort, '127.0.0.1', resolve));
    const sent = 2000;
    const datagram = Buffer.alloc(1024, 'x');
    for (let i = 0; i < sent; i++) sender.send(datagram);

    let text = '';
    await expect
      .poll(
        async () => {
          text = await scrape();
          return (
            metric(text, 'runmat_forwarder_datagrams_received_total') +
            metric(text, 'runmat_forwarder_udp_kernel_drops_total')
          );
        },
        { message: 'received + kernel drops to account for every datagram sent' },
      )
      .toBe(sent);
    const drops = metric(text, 'runmat_forwarder_udp_kernel_drops_total');
    expect(drops).toBeGreaterThan(0);
    expect(drops).toBe(udpSocketDrops(udpPort));
  });
});
