import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './udp.ts';

const SERVER = fileURLToPath(new URL('../../dist/server.js', import.meta.url));

/** A `node dist/server.js` child: its log lines, its `listening` fields, its exit. */
export class ForwarderProcess {
  readonly lines: Record<string, unknown>[] = [];
  stderr = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly child: ChildProcess;

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, [SERVER], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffered = '';
    this.child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const line of parts) {
        if (line.trim()) this.lines.push(JSON.parse(line) as Record<string, unknown>);
      }
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
    });
    this.child.on('exit', (code, signal) => {
      this.exit = { code, signal };
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** The `listening` line's fields, once it appears. */
  async listening(): Promise<{ udpHost: string; udpPort: number; healthPort: number }> {
    await waitFor(
      () => this.lines.some((l) => l.message === 'listening') || this.exit !== undefined,
      'the listening line',
    );
    const line = this.lines.find((l) => l.message === 'listening');
    if (!line) throw new Error(`forwarder exited early: ${this.stderr}`);
    return line as unknown as { udpHost: string; udpPort: number; healthPort: number };
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  async exited(timeoutMs = 10_000): Promise<NonNullable<ForwarderProcess['exit']>> {
    await waitFor(() => this.exit !== undefined, 'the forwarder to exit', timeoutMs);
    return this.exit!;
  }

  /** Cleanup: kills the child if it is still running. */
  async dispose(): Promise<void> {
    if (this.exit) return;
    this.child.kill('SIGKILL');
    await this.exited();
  }
}
