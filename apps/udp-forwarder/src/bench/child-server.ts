import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** A server started as a child process, found through its `listening` log line. */
export interface ChildServer {
  child: ChildProcess;
  pid: number;
  listening: Record<string, unknown>;
  stop(): Promise<number | null>;
}

/** Spawns `node script` with env and resolves once it logs `"msg":"listening"`. */
export function startChildServer(
  script: string,
  env: Record<string, string>,
  timeoutMs = 15_000,
): Promise<ChildServer> {
  const child = spawn(process.execPath, [script], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not log "listening" in ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.includes('"listening"')) continue;
        const listening = JSON.parse(line) as Record<string, unknown>;
        clearTimeout(timer);
        // From here on the output is only drained, never parsed.
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve({
          child,
          pid: child.pid ?? -1,
          listening,
          async stop() {
            if (child.exitCode !== null) return child.exitCode;
            child.kill('SIGTERM');
            return exited;
          },
        });
        return;
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before listening: ${stderr}`));
    });
  });
}

// USER_HZ, the unit of /proc/<pid>/stat times, is 100 on every mainstream Linux build.
const CLOCK_TICKS = 100;

/** CPU time (user + system) of a process in microseconds, from /proc/<pid>/stat. */
export function processCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1_000_000) / CLOCK_TICKS;
}

/** Resident set size of a process in bytes, from /proc/<pid>/status. */
export function processRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = status.match(/^VmRSS:\s+(\d+) kB/m);
  return match ? Number(match[1]) * 1024 : 0;
}
