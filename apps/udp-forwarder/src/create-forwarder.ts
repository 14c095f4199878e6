import type { RemoteInfo } from 'node:dgram';
import { DeliveryEngine, RetryPolicy } from '@runmat-telemetry/delivery';
import { MAX_INGEST_EVENT_BYTES, parseEventJson } from '@runmat-telemetry/schema';
import pino, { type Logger } from 'pino';
import { type BatchItem, toBatchItem } from './batch/batch-item.js';
import type { ForwarderConfig } from './config.js';
import { HealthServer } from './health/health-server.js';
import { WorkerDestination } from './http/worker-destination.js';
import { forwarderLoggerOptions } from './logging.js';
import { ForwarderMetrics } from './metrics.js';
import { ownSocketInodes, udpSocketDrops } from './udp/kernel-drops.js';
import { UdpReceiver } from './udp/udp-receiver.js';

/** Where a started forwarder is reachable (real ports, never 0). */
export interface ForwarderAddresses {
  udpHost: string;
  udpPort: number;
  healthPort: number;
  /** SO_RCVBUF as the kernel reports it (on Linux, double what it granted). */
  recvBufferBytes: number;
}

/** How the shutdown flush went. */
export interface StopReport {
  /** Events still queued or in flight at the deadline, counted as failed `shutdown`. */
  unflushed: number;
}

/** A forwarder instance: nothing is bound until `start()`. */
export interface Forwarder {
  start(): Promise<ForwarderAddresses>;
  /** Stops reading, flushes within `shutdownTimeoutMs`, closes everything. Idempotent. */
  stop(): Promise<StopReport>;
  readonly metrics: ForwarderMetrics;
  /** Set once started. */
  readonly addresses: ForwarderAddresses | undefined;
}

export interface CreateForwarderOptions {
  logger?: Logger;
}

/**
 * Builds the UDP → `/v1/batch` forwarder from validated config: receiver,
 * the delivery engine with the worker as its destination, and the health
 * server, wired together.
 */
export function createForwarder(
  config: ForwarderConfig,
  options: CreateForwarderOptions = {},
): Forwarder {
  const logger = options.logger ?? pino(forwarderLoggerOptions(config.logLevel));
  let addresses: ForwarderAddresses | undefined;
  let engine: DeliveryEngine<BatchItem> | undefined;
  const metrics = new ForwarderMetrics(() => engine, {
    // Our own socket's row only: another process may bind the same port.
    kernelDrops: () =>
      addresses ? udpSocketDrops(addresses.udpPort, ownSocketInodes()) : undefined,
  });
  const stats = metrics.stats;
  const policy = new RetryPolicy({
    baseMs: config.retryBaseMs,
    maxMs: config.retryMaxMs,
    maxElapsedMs: config.retryMaxElapsedMs,
  });
  const destination = new WorkerDestination({
    endpoint: config.endpoint,
    ingestionKey: config.ingestionKey,
    concurrency: config.concurrency,
    requestTimeoutMs: config.requestTimeoutMs,
    metrics,
    logger,
    policy,
  });
  const delivery = new DeliveryEngine<BatchItem>(destination, {
    maxEvents: config.queueMaxEvents,
    maxBytes: config.queueMaxBytes,
    batchMaxEvents: config.batchMaxEvents,
    batchMaxBytes: config.batchMaxBytes,
    batchMaxWaitMs: config.batchMaxWaitMs,
    concurrency: config.concurrency,
    retry: policy,
    onFailed: (reason, events, detail) =>
      logger.error({ reason, events, detail }, 'events not delivered to the worker'),
    onRetry: (reason, attempt, delayMs) =>
      logger.debug({ reason, attempt, delayMs }, 'batch request retried'),
  });
  engine = delivery;

  let started = false;
  let stopping: Promise<StopReport> | undefined;

  // The hot path: size check before decoding, one JSON.parse, no re-serialization.
  const onMessage = (msg: Buffer, rinfo: RemoteInfo): void => {
    stats.datagramsReceived++;
    if (msg.byteLength > MAX_INGEST_EVENT_BYTES) {
      metrics.drop('oversize');
      return;
    }
    // A full queue refuses before any decoding: under overload, parsing what
    // cannot be kept would only steal time from reading the socket.
    if (!delivery.hasRoom(1, msg.byteLength)) {
      metrics.drop('queue_full');
      return;
    }
    // Strict UTF-8 decode, JSON.parse and the field policy in one call. What
    // is queued is the parsed event re-serialized: contract fields only, so a
    // 12 KB Rust provider snapshot waits and travels as a few hundred bytes.
    const parsed = parseEventJson(msg, MAX_INGEST_EVENT_BYTES);
    if (!parsed.ok) {
      const code = parsed.error.code;
      metrics.drop(code === 'too_large' ? 'oversize' : code);
      return;
    }
    if (parsed.fixes.length > 0) metrics.fieldFixes.add(parsed.fixes);
    const projected = Buffer.from(JSON.stringify(parsed.event));
    if (!delivery.offer(toBatchItem(projected, rinfo.address, Date.now()))) {
      metrics.drop('queue_full');
    }
  };

  const receiver = new UdpReceiver({
    host: config.udpHost,
    port: config.udpPort,
    recvBufferBytes: config.recvBufferBytes,
    onMessage,
    onError: (err) => logger.error({ err }, 'udp socket error'),
  });
  const health = new HealthServer({
    host: config.healthHost,
    port: config.healthPort,
    isReady: () =>
      started &&
      !stopping &&
      delivery.pending() < config.queueMaxEvents &&
      delivery.pendingBytes() < config.queueMaxBytes,
    metrics: async () => ({
      contentType: metrics.registry.contentType,
      body: await metrics.text(),
    }),
  });

  async function stop(): Promise<StopReport> {
    await receiver.stop();
    const unflushed = await delivery.close(config.shutdownTimeoutMs);
    if (unflushed > 0) {
      logger.error(
        { unflushed, timeoutMs: config.shutdownTimeoutMs },
        'shutdown: events could not be flushed in time and were dropped',
      );
    }
    await (unflushed === 0 ? destination.close() : destination.destroy()).catch(() => undefined);
    await health.stop();
    logger.info(
      { stats: metrics.snapshot(), delivery: delivery.outcomes.snapshot() },
      'forwarder stopped',
    );
    return { unflushed };
  }

  return {
    metrics,
    get addresses() {
      return addresses;
    },
    async start() {
      if (addresses) return addresses;
      const udp = await receiver.start();
      let healthPort: number;
      try {
        healthPort = await health.start();
      } catch (err) {
        await receiver.stop();
        throw err;
      }
      // Linux reports double what it granted (the extra is its own bookkeeping).
      const granted = process.platform === 'linux' ? udp.recvBufferBytes / 2 : udp.recvBufferBytes;
      if (granted < config.recvBufferBytes) {
        logger.warn(
          { requested: config.recvBufferBytes, granted, reported: udp.recvBufferBytes },
          'udp receive buffer smaller than requested (raise net.core.rmem_max)',
        );
      } else {
        logger.info(
          { requested: config.recvBufferBytes, granted, reported: udp.recvBufferBytes },
          'udp receive buffer',
        );
      }
      started = true;
      addresses = {
        udpHost: udp.host,
        udpPort: udp.port,
        healthPort,
        recvBufferBytes: udp.recvBufferBytes,
      };
      return addresses;
    },
    stop() {
      stopping ??= stop();
      return stopping;
    },
  };
}
