import closeWithGrace from 'close-with-grace';
import { ConfigError } from './config-error.js';

/**
 * Cloud Run sends SIGTERM and kills the container 10 s later; `docker stop`
 * (the forwarder's VMs) waits the same. One grace period for every app.
 */
export const SHUTDOWN_GRACE_MS = 10_000;

/** An app's own drain bound, kept inside the grace period with room to exit. */
export function withinGrace(drainMs: number): number {
  return Math.min(drainMs, SHUTDOWN_GRACE_MS - 500);
}

/** The part of a pino logger the scaffolding writes to. */
export interface ServiceLogger {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A built service: nothing listens until `listen`. */
export interface ServiceInstance {
  logger: ServiceLogger;
  /** Binds every listener; resolves with the fields of the one `listening` line. */
  listen(): Promise<Record<string, unknown>>;
  /** Stops in order (intake first, drain, then the rest). */
  close(): Promise<void>;
}

/** How one app runs as a process. */
export interface ServiceDefinition<C> {
  /** For the start-failure line: `<name> failed to start: ...`. */
  name: string;
  /** Reads and validates the environment; throws {@link ConfigError}. */
  loadConfig(): C;
  /** Builds the service from its config (warnings may be logged here). */
  create(config: C): ServiceInstance | Promise<ServiceInstance>;
  /** The stderr line for a failed listen (e.g. a taken port); default `<name> failed to start: <message>`. */
  describeStartError?(err: unknown, config: C): string | undefined;
}

/** Where the scaffolding writes and how it exits; the process's own by default. */
export interface ServiceProcess {
  stderr(line: string): void;
  exit(code: number): never;
}

const realProcess: ServiceProcess = {
  stderr: (line) => process.stderr.write(`${line}\n`),
  exit: (code) => process.exit(code),
};

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Runs an app as a process: load config (a {@link ConfigError} prints its one
 * line to stderr and exits 1), build, install graceful shutdown (SIGTERM,
 * SIGINT, an uncaught error; killed after {@link SHUTDOWN_GRACE_MS}), listen,
 * log one `listening` line. On a signal: log `shutting down`, close, exit 0;
 * after an uncaught error: log it, close, exit 1.
 */
export async function runService<C>(
  def: ServiceDefinition<C>,
  proc: ServiceProcess = realProcess,
): Promise<void> {
  let config: C;
  let service: ServiceInstance;
  try {
    config = def.loadConfig();
    service = await def.create(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      proc.stderr(err.message);
      return proc.exit(1);
    }
    proc.stderr(`${def.name} failed to start: ${messageOf(err)}`);
    return proc.exit(1);
  }
  const { logger } = service;
  const grace = closeWithGrace(
    {
      delay: SHUTDOWN_GRACE_MS,
      logger: { error: (msg: unknown) => logger.error({}, String(msg)) },
    },
    async ({ signal, err }) => {
      if (err) logger.error({ err }, 'shutting down after error');
      else logger.info({ signal }, 'shutting down');
      await service.close();
    },
  );
  let fields: Record<string, unknown>;
  try {
    fields = await service.listen();
  } catch (err) {
    grace.uninstall();
    proc.stderr(
      def.describeStartError?.(err, config) ?? `${def.name} failed to start: ${messageOf(err)}`,
    );
    return proc.exit(1);
  }
  logger.info(fields, 'listening');
}
