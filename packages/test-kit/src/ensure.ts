/**
 * `node packages/test-kit/dist/ensure.js`: run by the test command before any
 * test. Makes sure the real components the tests drive are on this machine:
 * installs Debian's packages when running as root on Debian, and otherwise
 * exits 1 with a message saying how to get each missing one. Tests never skip.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CHROMIUM, type Component, locate, missingMessage, REDIS_SERVER } from './components.js';
// Registers Playwright's download as the last place Chromium may be.
import './chromium.js';

const NEEDED: readonly Component[] = [CHROMIUM, REDIS_SERVER];

function aptInstall(packages: string[]): void {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  console.log(`test setup: installing Debian packages: ${packages.join(' ')}`);
  execFileSync('apt-get', ['update'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env,
  });
}

export function ensureComponents(): boolean {
  let missing = NEEDED.filter((c) => locate(c) === undefined);
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (missing.length > 0 && root && existsSync('/etc/debian_version')) {
    try {
      aptInstall(missing.map((c) => c.debianPackage));
    } catch (err) {
      console.error(`test setup: apt-get failed: ${(err as Error).message}`);
    }
    missing = NEEDED.filter((c) => locate(c) === undefined);
  }
  if (missing.includes(CHROMIUM)) {
    // Elsewhere, Playwright's own browser download, for the pinned playwright-core.
    try {
      console.log(
        "test setup: no Chromium found; trying Playwright's download (npx playwright@1.64.1 install chromium)",
      );
      execFileSync('npx', ['--yes', 'playwright@1.64.1', 'install', 'chromium'], {
        stdio: 'inherit',
      });
    } catch (err) {
      console.error(`test setup: Playwright's download failed: ${(err as Error).message}`);
    }
    missing = NEEDED.filter((c) => locate(c) === undefined);
  }
  for (const c of missing) console.error(`test setup: ${missingMessage(c)}`);
  if (missing.length === 0) {
    console.log(`test setup: ${NEEDED.map((c) => `${c.name} ${locate(c)}`).join(', ')}`);
  }
  return missing.length === 0;
}

if (!ensureComponents()) process.exit(1);
