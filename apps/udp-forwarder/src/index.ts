export * from './batch/batch-item.js';
export * from './config.js';
export * from './create-forwarder.js';
export * from './logging.js';
export * from './metrics.js';
export * from './udp/kernel-drops.js';
