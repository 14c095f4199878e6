import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** A started app process and its parsed `listening` log line. */
export interface AppProcess {
  child: ChildProcess;
  listening: Record<string, unknown>;
  output: () => string;
  /** SIGTERM, then the exit code (SIGKILL after the deadline). */
  stop: (timeoutMs?: number) => Promise<number | null>;
}

/** A loopback port that was free a moment ago (nothing listens on it afterwards). */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * Starts `node dist/server.js` in `cwd` (or `command`, e.g. the image's
 * entrypoint in front of it) with exactly `env` (plus PATH) and resolves
 * once the process logs its `listening` line (`"message"`, Cloud Logging's
 * key, which both apps write; pino's default `"msg"` too).
 */
export async function startApp(
  cwd: string,
  env: Record<string, string>,
  timeoutMs = 15_000,
  command: readonly string[] = [process.execPath, 'dist/server.js'],
): Promise<AppProcess> {
  const [bin, ...args] = command as [string, ...string[]];
  const child = spawn(bin, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const output = () => out;
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );

  const stop = async (stopTimeoutMs = 10_000): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };

  const listening = await new Promise<Record<string, unknown>>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => {
      reject(new Error(`no "listening" line within ${timeoutMs} ms; output:\n${out}`));
    }, timeoutMs);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      buffered += d.toString();
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf('\n');
        try {
          const rec = JSON.parse(line) as Record<string, unknown>;
          if (rec.message === 'listening' || rec.msg === 'listening') {
            clearTimeout(timer);
            resolve(rec);
          }
        } catch {
          // Not a JSON log line; keep it in the output for diagnostics.
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with code ${code} before listening; output:\n${out}`));
    });
  }).catch(async (err: unknown) => {
    await stop();
    throw err;
  });

  return { child, listening, output, stop };
}
