import { type ChildProcess, spawn } from 'node:child_process';
import { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { REDIS_SERVER, requireComponent } from './components.js';
import { freePort } from './free-port.js';

/** A redis-server of the test's own, on loopback and an ephemeral port. */
export interface TestRedis extends AsyncDisposable {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** SIGKILLs the server (a crash, as far as its clients can tell). */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let answer = '';
    socket.setTimeout(500);
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      if (answer.includes('\r\n')) {
        socket.destroy();
        resolve(answer.startsWith('+PONG'));
      }
    });
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  });
}

/**
 * Starts `redis-server` with no persistence on an ephemeral loopback port and
 * waits until it answers PING. Fails with a message saying how to install it
 * when the machine has none: never a silent skip.
 */
export async function startRedis(): Promise<TestRedis> {
  const binary = requireComponent(REDIS_SERVER);
  const port = await freePort();
  let child: ChildProcess | undefined;

  const launch = async () => {
    const proc = spawn(
      binary,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child = proc;
    let stderr = '';
    proc.stderr?.on('data', (c) => {
      stderr += c;
    });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) break;
      if (await ping(port)) return;
      await sleep(25);
    }
    proc.kill('SIGKILL');
    throw new Error(`redis-server did not answer on port ${port}: ${stderr.trim()}`);
  };
  const end = async (signal: NodeJS.Signals) => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill(signal);
    await exited;
  };

  await launch();
  const stop = () => end('SIGTERM');
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: () => end('SIGKILL'),
    restart: async () => {
      await end('SIGKILL');
      await launch();
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
