/**
 * Datagrams the kernel dropped for the UDP socket bound to a port, read from
 * `/proc/net/udp{,6}` from outside the forwarder's process (the bench keeps
 * reading it while the forwarder is too busy to answer `/metrics`). Together
 * with the forwarder's own counters this makes "sent = received + kernel
 * drops" checkable exactly. The reader lives in the forwarder, which exports
 * the same figure as `runmat_forwarder_udp_kernel_drops_total`.
 */
export { udpSocketDrops } from '@runmat-telemetry/udp-forwarder';
