import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { APP_PATHS } from './repo-paths.js';
import { childEnv } from './spawn-server.js';

export type TomlValue = string | number | boolean;

/** What goes under `[runtime.telemetry]` in the client's runmat.toml. */
export interface ClientTelemetryConfig {
  /** `http_endpoint`, e.g. `http://127.0.0.1:PORT/v1/t`. */
  http?: string;
  /** `udp_endpoint`, e.g. `127.0.0.1:PORT`; "" disables UDP. Written as "" when omitted. */
  udp?: string;
  /** Any other `[runtime.telemetry]` keys (`sync_mode`, `drain_timeout_ms`...). */
  extra?: Record<string, TomlValue>;
}

// TOML basic strings accept JSON's escapes for everything a URL or path holds.
const tomlValue = (v: TomlValue) => (typeof v === 'string' ? JSON.stringify(v) : String(v));

/** The text of a runmat.toml that points the client at local collectors. */
export function clientConfigToml(config: ClientTelemetryConfig): string {
  const entries: Record<string, TomlValue> = {
    ...(config.http !== undefined ? { http_endpoint: config.http } : {}),
    udp_endpoint: config.udp ?? '',
    ...config.extra,
  };
  const body = Object.entries(entries)
    .map(([k, v]) => `${k} = ${tomlValue(v)}`)
    .join('\n');
  return `# Written by @runmat-telemetry/e2e: points the client at a local pipeline.\n[runtime.telemetry]\n${body}\n`;
}

/** Writes `runmat.toml` at `path` (creating its folder) and returns the path. */
export function writeClientConfig(path: string, config: ClientTelemetryConfig): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, clientConfigToml(config));
  return path;
}

const tempDirs = new Set<string>();
process.once('exit', () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp directory, removed when the process exits if not before. */
export function makeTempDir(prefix = 'runmat-e2e-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** One `sent <event> <uuid> via <transports>` line printed by `runmat-telemetry emit`. */
export interface SentLine {
  event: string;
  uuid: string;
  via: string[];
}

const SENT_RE = /^sent\s+(\S+)\s+([0-9a-fA-F-]{36})\s+via\s+(\S+)/;

/** Parses the CLI's `sent ...` lines. */
export function parseSentLines(stdout: string): SentLine[] {
  const sent: SentLine[] = [];
  for (const line of stdout.split('\n')) {
    const m = SENT_RE.exec(line.trim());
    if (m)
      sent.push({
        event: m[1] as string,
        uuid: (m[2] as string).toLowerCase(),
        via: (m[3] as string).split(','),
      });
  }
  return sent;
}

export interface RunClientOptions extends ClientTelemetryConfig {
  /** RUNMAT_TELEMETRY_KEY; left unset when undefined. */
  key?: string;
  /** CLI arguments (default `['emit']`). */
  args?: string[];
  /** Extra environment (opt-outs such as `DO_NOT_TRACK=1`). */
  env?: Record<string, string | undefined>;
  /** HOME/USERPROFILE for the run (default: a fresh temp dir, so the id file is the run's own). */
  home?: string;
  /** Kill the client if it has not exited by then (default 20 s). */
  timeoutMs?: number;
}

/** The outcome of one client CLI run. */
export interface ClientRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Parsed `sent` lines. */
  sent: SentLine[];
  home: string;
  configPath: string;
  /** `~/.runmat/telemetry_id` under the run's home. */
  idFile: string;
  /** The anonymous id the run wrote, if any. */
  telemetryId: string | undefined;
}

/**
 * Runs `node packages/client/bin/runmat-telemetry.js <args>` (default `emit`)
 * with HOME and USERPROFILE in a temp dir and RUNMAT_CONFIG pointing at a temp
 * runmat.toml with the given endpoints, exactly as a user would.
 */
export async function runClient(options: RunClientOptions): Promise<ClientRun> {
  const home = options.home ?? makeTempDir('runmat-e2e-home-');
  const configPath = writeClientConfig(
    join(makeTempDir('runmat-e2e-cfg-'), 'runmat.toml'),
    options,
  );
  const child = spawn(process.execPath, [APP_PATHS.clientCli, ...(options.args ?? ['emit'])], {
    cwd: home,
    env: childEnv({
      HOME: home,
      USERPROFILE: home,
      RUNMAT_CONFIG: configPath,
      RUNMAT_TELEMETRY_KEY: options.key,
      ...options.env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(
    (resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c, s) => resolve([c, s]));
    },
  );
  clearTimeout(timer);
  const idFile = join(home, '.runmat', 'telemetry_id');
  return {
    code,
    signal,
    stdout,
    stderr,
    sent: parseSentLines(stdout),
    home,
    configPath,
    idFile,
    telemetryId: existsSync(idFile) ? readFileSync(idFile, 'utf8').trim() : undefined,
  };
}
