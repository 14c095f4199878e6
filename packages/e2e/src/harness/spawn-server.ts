import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
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

export interface SpawnServerOptions {
  /** Short label used in error messages (`worker`, `sink`...). */
  name: string;
  /** Absolute path of the built entry point (`.../dist/server.js`). */
  script: string;
  /** Variables for the child; merged over a minimal base environment. */
  env: Record<string, string | undefined>;
  /** How long to wait for the `listening` line (default 15 s). */
  readyTimeoutMs?: number;
  /** Called with every stdout line (the server's pino JSON), e.g. to stream logs. */
  onLine?: (line: string) => void;
}

/** A running server process started from its built entry point. */
export interface ServerProcess extends AsyncDisposable {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** The parsed `listening` line: the real bound addresses. */
  readonly listening: ListeningLine;
  /** Settles when the process exits, however that happens. */
  readonly exited: Promise<ExitInfo>;
  /** True once the process has exited. */
  readonly hasExited: boolean;
  /** Recent stdout lines (bounded), for diagnostics. */
  stdoutLines(): string[];
  /** Recent stderr text (bounded), for diagnostics. */
  stderrText(): string;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs` (default 5 s). */
  stop(graceMs?: number): Promise<ExitInfo>;
}

const MAX_LINES = 2000;
const MAX_STDERR = 64 * 1024;

// Anything the developer's shell exports (LOG_LEVEL, POSTHOG_API_KEY, PORT...)
// must not leak into a child: each one gets exactly the variables it is given.
const BASE_ENV_KEYS = ['PATH', 'TMPDIR', 'TEMP', 'TMP', 'LANG', 'SYSTEMROOT'];

/** A minimal environment (PATH, temp dirs, locale) plus `extra`; undefined values are left out. */
export function childEnv(extra: Record<string, string | undefined>): Record<string, string> {
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

// A crashed test runner must not leave servers behind on the shared machine.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Starts `node <script>` with the given environment and resolves once the
 * server logs its `listening` line. Rejects (after killing the child) if the
 * process exits first or the deadline passes, quoting its stderr and last logs.
 */
export async function spawnServer(options: SpawnServerOptions): Promise<ServerProcess> {
  const { name, script } = options;
  const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
  if (!existsSync(script)) {
    throw new Error(`${name}: ${script} does not exist; build first (pnpm turbo run build)`);
  }

  const child = spawn(process.execPath, [script], {
    cwd: dirname(dirname(script)),
    env: childEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);

  const lines: string[] = [];
  let stderr = '';
  let exitInfo: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      live.delete(child);
      resolve(exitInfo);
    });
  });

  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-MAX_STDERR);
  });

  let resolveReady: (line: ListeningLine) => void = () => {};
  const ready = new Promise<ListeningLine>((resolve) => {
    resolveReady = resolve;
  });
  // Keep reading stdout for the whole life of the child: a full pipe would block its logger.
  const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  rl.on('line', (line) => {
    lines.push(line);
    if (lines.length > MAX_LINES) lines.shift();
    options.onLine?.(line);
    if (!line.includes('"listening"')) return;
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (parsed.message === 'listening' || parsed.msg === 'listening') {
        resolveReady(parsed as ListeningLine);
      }
    } catch {
      // Not JSON: not the line we wait for.
    }
  });

  const describe = (why: string) =>
    new Error(
      `${name} (${script}) ${why}\n--- stderr ---\n${stderr.trim()}\n--- last stdout ---\n${lines
        .slice(-20)
        .join('\n')}`,
    );

  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    ready.then((line) => ({ kind: 'ready' as const, line })),
    exited.then((info) => ({ kind: 'exited' as const, info })),
    new Promise<{ kind: 'timeout' }>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'timeout' }), readyTimeoutMs);
    }),
  ]);
  clearTimeout(timer);

  if (outcome.kind !== 'ready') {
    child.kill('SIGKILL');
    await exited;
    if (outcome.kind === 'exited') {
      throw describe(
        `exited before listening (code ${outcome.info.code}, signal ${outcome.info.signal})`,
      );
    }
    throw describe(`did not log "listening" within ${readyTimeoutMs} ms`);
  }

  const stop = async (graceMs = 5_000): Promise<ExitInfo> => {
    if (exitInfo) return exitInfo;
    child.kill('SIGTERM');
    let killTimer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      killTimer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, graceMs);
    });
    await Promise.race([exited, killed]);
    clearTimeout(killTimer);
    return exited;
  };

  return {
    name,
    child,
    pid: child.pid ?? -1,
    listening: outcome.line,
    exited,
    get hasExited() {
      return exitInfo !== undefined;
    },
    stdoutLines: () => [...lines],
    stderrText: () => stderr,
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}
