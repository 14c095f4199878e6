import {
  INSTALL_EVENTS,
  type InstallEventName,
  RUN_KINDS,
  type RunKind,
} from '@runmat-telemetry/schema';
import { TelemetryConfigError } from '../config/config-error.js';
import { telemetryPaths } from '../config/config-paths.js';
import type { EnvLike } from '../config/opt-outs.js';
import { type ResolvedConfig, resolveConfig } from '../config/resolve-config.js';
import { CONFIG_KEYS, effectiveHttpEndpoint } from '../config/telemetry-config.js';
import { setUserTelemetryEnabled } from '../config/write-user-config.js';
import type { DeliveryResult } from '../delivery/delivery-queue.js';
import {
  deleteTelemetryId,
  loadOrCreateTelemetryId,
  readTelemetryId,
  resetTelemetryId,
} from '../identity/telemetry-id.js';
import { createTelemetry } from '../telemetry.js';

/** Where the CLI reads its inputs and writes its lines; injectable for tests. */
export interface CliIo {
  env: EnvLike;
  cwd: string;
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Exit codes: 0 ok, 1 failure, 2 usage. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

class UsageError extends Error {}

const HELP: Record<string, string> = {
  main: `Usage: runmat-telemetry <command> [options]

Inspect and control RunMat's anonymous telemetry.

Commands:
  status                 whether telemetry is on and why, effective config with sources, id path
  enable                 set [runtime.telemetry] enabled = true in ~/.config/runmat/config.toml
  disable                set [runtime.telemetry] enabled = false in ~/.config/runmat/config.toml
  id [--reset]           print the anonymous id (--reset: replace it with a new one)
  emit                   send a simulated run (started + finished) through the configured transports
  install-event <name>   send an installer event (install_start, install_complete, install_failed)

Run "runmat-telemetry <command> --help" for a command's options.
Exit codes: 0 ok, 1 failure, 2 usage error.`,
  status: `Usage: runmat-telemetry status [--json]

Prints whether telemetry is enabled and why, whether events can be delivered,
every config key with its effective value and where it came from, the config
files consulted and the id file path.
  --json   print the same as one JSON object`,
  enable: `Usage: runmat-telemetry enable

Writes enabled = true under [runtime.telemetry] in ~/.config/runmat/config.toml
(and clears an older ~/.runmat/config.toml "enabled = false"). Environment
opt-outs (RUNMAT_NO_TELEMETRY, RUNMAT_TELEMETRY=0, DO_NOT_TRACK) still win.`,
  disable: `Usage: runmat-telemetry disable

Writes enabled = false under [runtime.telemetry] in ~/.config/runmat/config.toml.
No events are sent and no id file is created afterwards.`,
  id: `Usage: runmat-telemetry id [--reset]

Prints the anonymous id from ~/.runmat/telemetry_id (creating it if telemetry
is enabled).
  --reset   delete the id and, if telemetry is enabled, mint a new one`,
  emit: `Usage: runmat-telemetry emit [--kind <run kind>] [--fail] [--release <version>]

Sends a simulated run (runtime.run.started then runtime.run.finished with
realistic counters and GPU figures) through the configured transports, waits
for delivery (up to 3 s) and prints one line per event sent:
  sent runtime.run.started <uuid> via udp,http
  --kind      ${RUN_KINDS.join(', ')} (default script)
  --fail      report a failed run with failure buckets
  --release   RunMat version to report`,
  'install-event': `Usage: runmat-telemetry install-event <name> [--method shell|powershell] [--platform <p>] [--release <v>]

Sends one installer event (${INSTALL_EVENTS.join(', ')}) and waits for delivery
(up to 3 s). Prints "sent <name> <uuid> via ..." when delivered.`,
};

const CLI_DRAIN_MS = 3000;

/** Runs the command line; resolves to the exit code. Never throws. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      (command === undefined ? io.err : io.out)(HELP.main ?? '');
      return command === undefined ? EXIT.usage : EXIT.ok;
    }
    const help = HELP[command];
    if (!help || command === 'main') throw new UsageError(`unknown command "${command}"`);
    if (rest.includes('--help') || rest.includes('-h')) {
      io.out(help);
      return EXIT.ok;
    }
    switch (command) {
      case 'status':
        return status(parseFlags(rest, ['--json'], []), io);
      case 'enable':
      case 'disable':
        parseFlags(rest, [], []);
        return toggle(command === 'enable', io);
      case 'id':
        return id(parseFlags(rest, ['--reset'], []), io);
      case 'emit':
        return await emit(parseFlags(rest, ['--fail'], ['--kind', '--release']), io);
      case 'install-event':
        return await installEvent(
          parseFlags(rest, [], ['--method', '--platform', '--release']),
          io,
        );
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`runmat-telemetry: ${err.message}`);
      io.err(
        `Run "runmat-telemetry ${command && HELP[command] ? `${command} ` : ''}--help" for usage.`,
      );
      return EXIT.usage;
    }
    io.err(`runmat-telemetry: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT.failure;
  }
}

interface Flags {
  bools: Set<string>;
  values: Map<string, string>;
  positional: string[];
}

function parseFlags(args: readonly string[], bools: string[], valued: string[]): Flags {
  const flags: Flags = { bools: new Set(), values: new Map(), positional: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (!arg.startsWith('--')) {
      flags.positional.push(arg);
      continue;
    }
    const [name, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    if (bools.includes(name ?? '') && inline === undefined) flags.bools.add(name ?? '');
    else if (valued.includes(name ?? '')) {
      const value = inline ?? args[++i];
      if (value === undefined || value === '') throw new UsageError(`${name} needs a value`);
      flags.values.set(name ?? '', value);
    } else throw new UsageError(`unknown option "${arg}"`);
  }
  return flags;
}

function noPositional(flags: Flags): void {
  if (flags.positional.length > 0)
    throw new UsageError(`unexpected argument "${flags.positional[0]}"`);
}

function status(flags: Flags, io: CliIo): number {
  noPositional(flags);
  const paths = telemetryPaths({ env: io.env });
  let resolved: ResolvedConfig;
  try {
    resolved = resolveConfig({ env: io.env, cwd: io.cwd });
  } catch (err) {
    if (!(err instanceof TelemetryConfigError)) throw err;
    if (flags.bools.has('--json')) {
      io.out(
        JSON.stringify({
          enabled: false,
          error: {
            code: err.code,
            message: err.message,
            file: err.file,
            key: err.key,
            line: err.line,
          },
        }),
      );
    } else {
      io.out('telemetry: disabled (configuration error)');
      io.out(`  ${err.message}`);
    }
    return EXIT.failure;
  }
  const idPresent = readTelemetryId(paths.idFile);
  if (flags.bools.has('--json')) {
    io.out(
      JSON.stringify({
        enabled: resolved.enabled,
        disabledReasons: resolved.disabledReasons,
        deliveryEnabled: resolved.deliveryEnabled,
        deliveryDisabledReason: resolved.deliveryDisabledReason,
        config: resolved.config,
        sources: resolved.sources,
        httpEndpoint: effectiveHttpEndpoint(resolved.config),
        ingestionKey:
          resolved.ingestionKeySource === 'none'
            ? 'not set'
            : `set (${resolved.ingestionKeySource})`,
        idFile: paths.idFile,
        idFilePresent: idPresent !== undefined,
        files: resolved.files,
        warnings: resolved.warnings,
      }),
    );
    return EXIT.ok;
  }
  io.out(`telemetry: ${resolved.enabled ? 'enabled' : 'disabled'}`);
  for (const reason of resolved.disabledReasons) io.out(`  because ${reason}`);
  if (resolved.enabled) {
    io.out(
      `delivery: ${resolved.deliveryEnabled ? 'on' : `off (${resolved.deliveryDisabledReason})`}`,
    );
  }
  io.out('config (effective value, source):');
  const width = Math.max(...CONFIG_KEYS.map((k) => k.length));
  for (const key of CONFIG_KEYS) {
    io.out(
      `  ${key.padEnd(width)}  ${JSON.stringify(resolved.config[key])}  (${resolved.sources[key]})`,
    );
  }
  io.out(`  http endpoint in use: ${effectiveHttpEndpoint(resolved.config)}`);
  io.out(
    `ingestion key: ${resolved.ingestionKeySource === 'none' ? 'not set' : `set (${resolved.ingestionKeySource})`}`,
  );
  io.out(`id file: ${paths.idFile} (${idPresent ? 'present' : 'absent'})`);
  io.out('config files:');
  for (const f of resolved.files)
    io.out(`  ${f.role.padEnd(7)} ${f.path} (${f.found ? 'found' : 'not found'})`);
  for (const w of resolved.warnings) io.out(`warning: ${w}`);
  return EXIT.ok;
}

function toggle(enabled: boolean, io: CliIo): number {
  const paths = telemetryPaths({ env: io.env });
  const { written } = setUserTelemetryEnabled(paths, enabled);
  io.out(`telemetry ${enabled ? 'enabled' : 'disabled'} in ${written.join(', ')}`);
  try {
    const resolved = resolveConfig({ env: io.env, cwd: io.cwd });
    if (enabled && !resolved.enabled)
      io.out(`note: still disabled because ${resolved.disabledReasons.join('; ')}`);
  } catch (err) {
    if (err instanceof TelemetryConfigError) io.out(`note: ${err.message}`);
  }
  return EXIT.ok;
}

function id(flags: Flags, io: CliIo): number {
  noPositional(flags);
  const paths = telemetryPaths({ env: io.env });
  let enabled = false;
  try {
    enabled = resolveConfig({ env: io.env, cwd: io.cwd }).enabled;
  } catch {
    // An unreadable config counts as "not enabled": never mint an id then.
  }
  if (flags.bools.has('--reset')) {
    if (!enabled) {
      const had = deleteTelemetryId(paths.idFile);
      io.out(
        had
          ? `deleted ${paths.idFile} (telemetry is disabled; no new id created)`
          : `no id at ${paths.idFile}`,
      );
      return EXIT.ok;
    }
    io.out(resetTelemetryId(paths.idFile));
    return EXIT.ok;
  }
  const existing = readTelemetryId(paths.idFile);
  if (existing) {
    io.out(existing);
    return EXIT.ok;
  }
  if (!enabled) {
    io.err(`no id at ${paths.idFile} (telemetry is disabled, so none is created)`);
    return EXIT.failure;
  }
  const created = loadOrCreateTelemetryId(paths.idFile);
  if (created.source === 'ephemeral') {
    io.err(`cannot write ${paths.idFile}: ${created.problem}`);
    return EXIT.failure;
  }
  io.out(created.id);
  return EXIT.ok;
}

async function emit(flags: Flags, io: CliIo): Promise<number> {
  noPositional(flags);
  const kind = (flags.values.get('--kind') ?? 'script') as RunKind;
  if (!RUN_KINDS.includes(kind))
    throw new UsageError(`--kind must be one of ${RUN_KINDS.join(', ')}`);
  const fail = flags.bools.has('--fail');
  return deliver(io, flags.values.get('--release'), (t) => {
    const run = t.startRun({ kind, jitEnabled: true, accelerateEnabled: true });
    // A simulated run lasts microseconds; scale the GPU time to it so gpu_ratio
    // comes out realistic (about 0.42) instead of clamped at 1.
    const gpuWallNs = Math.round(run.elapsedUs() * 1000 * 0.42) + 1;
    run.finish({
      success: !fail,
      jitUsed: true,
      host: 'cli',
      counters: { total_executions: 42, jit_compiled: 6, interpreter_fallback: 1 },
      provider: {
        device: { name: 'NVIDIA RTX 4090', vendor: 'NVIDIA', backend: 'cuda' },
        telemetry: {
          gpu_dispatches: 12,
          gpu_wall_ns: gpuWallNs,
          upload_bytes: 262_144,
          download_bytes: 0,
          fusion_cache_hits: 8,
          fusion_cache_misses: 1,
        },
      },
      ...(fail
        ? {
            error: 'RuntimeError',
            failure: {
              stage: 'runtime',
              code: 'RunMat:IndexOutOfBounds',
              hasSpan: true,
              component: 'indexing',
            },
          }
        : {}),
    });
  });
}

async function installEvent(flags: Flags, io: CliIo): Promise<number> {
  const [name, extra] = flags.positional;
  if (!name) throw new UsageError('install-event needs an event name');
  if (extra) throw new UsageError(`unexpected argument "${extra}"`);
  if (!(INSTALL_EVENTS as readonly string[]).includes(name)) {
    throw new UsageError(`event must be one of ${INSTALL_EVENTS.join(', ')}`);
  }
  const method = flags.values.get('--method') ?? 'shell';
  if (method !== 'shell' && method !== 'powershell')
    throw new UsageError('--method must be shell or powershell');
  const platform = flags.values.get('--platform');
  return deliver(io, flags.values.get('--release'), (t) => {
    t.installer({ method, ...(platform ? { platform } : {}) }).send(name as InstallEventName);
  });
}

/** Emits through a short-lived telemetry instance, waits, and prints one line per event sent. */
async function deliver(
  io: CliIo,
  release: string | undefined,
  produce: (t: ReturnType<typeof createTelemetry>) => void,
): Promise<number> {
  const results: DeliveryResult[] = [];
  const queued: { label: string; uuid: string | undefined }[] = [];
  const telemetry = createTelemetry({
    env: io.env,
    cwd: io.cwd,
    drainOnExit: false,
    onResult: (r) => results.push(r),
    onQueued: (label, uuid) => queued.push({ label, uuid }),
    log: (message, fields) => {
      if (io.env.RUNMAT_TELEMETRY_DEBUG)
        io.err(`debug: ${message} ${JSON.stringify(fields ?? {})}`);
    },
    ...(release ? { release } : {}),
  });
  if (telemetry.configError) {
    io.err(`runmat-telemetry: ${telemetry.configError.message}`);
    return EXIT.failure;
  }
  const resolved = telemetry.resolved;
  if (!telemetry.enabled) {
    io.err(`telemetry disabled (${resolved?.disabledReasons.join('; ')}); nothing sent`);
    return EXIT.ok;
  }
  if (!telemetry.deliveryEnabled) {
    io.err(`delivery off: ${resolved?.deliveryDisabledReason}; nothing sent`);
    return EXIT.failure;
  }
  const drainMs = Math.max(resolved?.config.drain_timeout_ms ?? 0, CLI_DRAIN_MS);
  produce(telemetry);
  // `emit` is for trying a pipeline: wait for it even if the config says drain none.
  await waitFor(() => results.length >= queued.length * transportCount(resolved), drainMs);
  await telemetry.shutdown();
  let allSent = queued.length > 0;
  for (const ev of queued) {
    const mine = results.filter((r) => r.uuid === ev.uuid);
    const ok = mine.filter((r) => r.ok).map((r) => r.transport);
    for (const r of mine.filter((x) => !x.ok))
      io.err(`failed ${ev.label} ${ev.uuid} via ${r.transport}: ${r.error}`);
    if (ok.length > 0)
      io.out(`sent ${ev.label} ${ev.uuid} via ${ok.sort((a, b) => b.localeCompare(a)).join(',')}`);
    else {
      allSent = false;
      if (mine.length === 0)
        io.err(`failed ${ev.label} ${ev.uuid}: no answer within ${drainMs} ms`);
    }
  }
  return allSent ? EXIT.ok : EXIT.failure;
}

function transportCount(resolved: ResolvedConfig | undefined): number {
  return resolved?.config.udp_endpoint ? 2 : 1;
}

async function waitFor(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}
