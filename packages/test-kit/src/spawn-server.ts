import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Socket } from 'node:net';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * The JSON line a server logs once it is bound: `"message":"listening"` (the
 * worker and forwarder write Cloud Logging's `message`), or `"msg":"listening"`
 * (pino's default key, the fake sink's), plus its addresses.
 */
export type ListeningLine = Record<string, unknown> &
  ({ message: 'listening' } | { msg: 'listening' });

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnProcessOptions {
  /** Short label used in error messages (`worker`, `sink`...). Default: the script's path. */
  name?: string;
  /** Absolute path of the built node entry point (`.../dist/server.js`). */
  script: string;
  /** Arguments after the script. */
  args?: readonly string[];
  /**
   * What runs the script, default `[process.execPath]`: e.g. the image's
   * entrypoint in front of node, `['sh', 'bin/worker-entrypoint.sh', process.execPath]`.
   */
  command?: readonly string[];
  /** Variables for the child; merged over a minimal base environment (see `childEnv`). */
  env?: Record<string, string | undefined>;
  /** Working directory, default the script's package (the parent of its `dist/`). */
  cwd?: string;
  /** Called with every stdout line (the server's JSON log), e.g. to stream logs. */
  onLine?: (line: string) => void;
}

export interface SpawnServerOptions extends SpawnProcessOptions {
  /**
   * When the server is ready: a predicate over its parsed JSON stdout lines
   * (default: the `listening` line), or a TCP port that accepts connections.
   */
  readyWhen?: ((record: Record<string, unknown>) => boolean) | { port: number; host?: string };
  /** How long to wait for readiness (default 15 s). */
  readyTimeoutMs?: number;
}

/** A child process started from a node entry point, its output captured for assertions. */
export interface TestProcess extends AsyncDisposable {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Settles when the process exits, however that happens. */
  readonly exited: Promise<ExitInfo>;
  /** True once the process has exited. */
  readonly hasExited: boolean;
  /** Every stdout line so far (bounded to the last 50 000). */
  stdoutLines(): string[];
  /** The stdout lines that parse as JSON objects (the structured log). */
  records(): Record<string, unknown>[];
  /** Stderr so far (bounded to the last 256 KiB). */
  stderrText(): string;
  /**
   * Resolves with the first JSON log line that satisfies `match` (already
   * logged or still to come). Rejects when the process exits or `timeoutMs`
   * (default 10 s) passes first, quoting its stderr and last lines.
   */
  waitForRecord(
    match: (record: Record<string, unknown>) => boolean,
    options?: { timeoutMs?: number; what?: string },
  ): Promise<Record<string, unknown>>;
  /** Sends `signal` to the child's whole process group (SIGSTOP and SIGCONT included). */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM to the process group, then SIGKILL if it has not exited within `graceMs` (default 5 s). */
  stop(graceMs?: number): Promise<ExitInfo>;
  /** SIGKILL to the process group (a crash, as far as its peers can tell); resolves on exit. */
  kill(): Promise<ExitInfo>;
}

/** A server that reported ready. */
export interface ServerProcess extends TestProcess {
  /** The parsed readiness line (the `listening` line by default; `{}` for a port readiness). */
  readonly listening: ListeningLine;
}

const MAX_LINES = 50_000;
const MAX_STDERR = 256 * 1024;

// Anything the developer's shell exports (LOG_LEVEL, POSTHOG_API_KEY, PORT...)
// must not leak into a child: each one gets exactly the variables it is given.
const BASE_ENV_KEYS = ['PATH', 'TMPDIR', 'TEMP', 'TMP', 'LANG', 'SYSTEMROOT'];

/** A minimal environment (PATH, temp dirs, locale) plus `extra`; undefined values are left out. */
export function childEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of BASE_ENV_KEYS) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  for (const [key, value] of Object.entries(extra)) {
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/** A process group, so a child's own children (an entrypoint's node) go with it. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

// A crashed test runner must not leave servers behind on the shared machine.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) signalGroup(child, 'SIGKILL');
});

const isListening = (r: Record<string, unknown>) =>
  r.message === 'listening' || r.msg === 'listening';

function parseRecord(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(line);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts `node <script>` (or `command… <script>`) in its own process group
 * with exactly the given environment and returns at once: for a process that
 * is expected to exit (a bad setting), or whose readiness the test checks
 * itself. Dispose it (`await using`) to stop it.
 */
export function spawnProcess(options: SpawnProcessOptions): TestProcess {
  const { script } = options;
  const name = options.name ?? script;
  if (!existsSync(script)) {
    throw new Error(`${name}: ${script} does not exist; build first (pnpm turbo run build)`);
  }
  const [bin, ...pre] = (options.command ?? [process.execPath]) as [string, ...string[]];
  const child = spawn(bin, [...pre, script, ...(options.args ?? [])], {
    cwd: options.cwd ?? dirname(dirname(script)),
    env: childEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  live.add(child);

  const lines: string[] = [];
  const records: Record<string, unknown>[] = [];
  const watchers = new Set<(record: Record<string, unknown>) => void>();
  let stderr = '';
  let exitInfo: ExitInfo | undefined;
  child.once('exit', (code, signal) => {
    exitInfo = { code, signal };
  });
  // A command that cannot start (ENOENT) reports `error` and then `close`, with no `exit`.
  child.once('error', (err) => {
    stderr += `spawn failed: ${err.message}\n`;
  });
  // Exit is reported before the last stdout lines are read: settle once both are in.
  const closed = new Promise<ExitInfo>((resolve) => {
    child.once('close', (code, signal) => {
      exitInfo ??= { code, signal };
      live.delete(child);
      resolve(exitInfo);
    });
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-MAX_STDERR);
  });
  // Keep reading stdout for the whole life of the child: a full pipe would block its logger.
  const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  rl.on('line', (line) => {
    lines.push(line);
    if (lines.length > MAX_LINES) lines.shift();
    options.onLine?.(line);
    const record = parseRecord(line);
    if (record === undefined) return;
    records.push(record);
    if (records.length > MAX_LINES) records.shift();
    for (const watch of watchers) watch(record);
  });
  const describe = (why: string) =>
    new Error(
      `${name} ${why}\n--- stderr ---\n${stderr.trim()}\n--- last stdout ---\n${lines
        .slice(-20)
        .join('\n')}`,
    );

  const waitForRecord: TestProcess['waitForRecord'] = (match, opts = {}) => {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const what = opts.what ?? 'the expected log line';
    const seen = records.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const done = () => {
        watchers.delete(watch);
        clearTimeout(timer);
      };
      const watch = (record: Record<string, unknown>) => {
        if (!match(record)) return;
        done();
        resolve(record);
      };
      watchers.add(watch);
      const timer = setTimeout(() => {
        done();
        reject(describe(`did not log ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      void closed.then((info) => {
        if (!watchers.has(watch)) return;
        done();
        reject(
          describe(`exited before logging ${what} (code ${info.code}, signal ${info.signal})`),
        );
      });
    });
  };

  const stop = async (graceMs = 5_000): Promise<ExitInfo> => {
    if (exitInfo) return closed;
    // A stopped (SIGSTOP) process would hold SIGTERM until continued.
    signalGroup(child, 'SIGCONT');
    signalGroup(child, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
    const info = await closed;
    clearTimeout(timer);
    return info;
  };
  const kill = async (): Promise<ExitInfo> => {
    if (!exitInfo) signalGroup(child, 'SIGKILL');
    return closed;
  };

  return {
    name,
    child,
    pid: child.pid ?? -1,
    exited: closed,
    get hasExited() {
      return exitInfo !== undefined;
    },
    stdoutLines: () => [...lines],
    records: () => [...records],
    stderrText: () => stderr,
    waitForRecord,
    signal: (signal) => signalGroup(child, signal),
    stop,
    kill,
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}

function connects(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout(500);
    const end = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => end(true));
    socket.once('error', () => end(false));
    socket.once('timeout', () => end(false));
    socket.connect(port, host);
  });
}

async function portReady(
  proc: TestProcess,
  port: number,
  host: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!proc.hasExited && Date.now() < deadline) {
    if (await connects(port, host)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const info = proc.hasExited ? await proc.exited : undefined;
  throw new Error(
    `${proc.name} ${
      info
        ? `exited before accepting on ${host}:${port} (code ${info.code}, signal ${info.signal})`
        : `did not accept on ${host}:${port} within ${timeoutMs} ms`
    }\n--- stderr ---\n${proc.stderrText().trim()}`,
  );
}

/**
 * Starts a server like `spawnProcess` and resolves once it is ready (by
 * default: it logged its `listening` line). Rejects, after killing it, if it
 * exits first or the deadline passes, quoting its stderr and last logs.
 */
export async function spawnServer(options: SpawnServerOptions): Promise<ServerProcess> {
  const proc = spawnProcess(options);
  const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
  const readyWhen = options.readyWhen ?? isListening;
  let listening: ListeningLine;
  try {
    if (typeof readyWhen === 'function') {
      listening = (await proc.waitForRecord(readyWhen, {
        timeoutMs: readyTimeoutMs,
        what: options.readyWhen ? 'its ready line' : '"listening"',
      })) as ListeningLine;
    } else {
      await portReady(proc, readyWhen.port, readyWhen.host ?? '127.0.0.1', readyTimeoutMs);
      listening = {} as ListeningLine;
    }
  } catch (err) {
    await proc.kill();
    throw err;
  }
  return Object.assign(proc, { listening });
}
