import { createConnection } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  CHROMIUM,
  launchChromium,
  locate,
  missingMessage,
  REDIS_SERVER,
  startRedis,
} from '../src/index.ts';

describe('component lookup', () => {
  it('honours an explicit path and explains how to get a missing component', () => {
    expect(locate(CHROMIUM, { CHROMIUM_PATH: '/nonexistent/chromium' })).toBeUndefined();
    expect(locate(REDIS_SERVER, { PATH: '/nonexistent', REDIS_SERVER_PATH: '/bin/sh' })).toBe(
      '/bin/sh',
    );
    expect(missingMessage(REDIS_SERVER)).toMatch(/apt-get install -y redis-server/);
    expect(missingMessage(CHROMIUM)).toMatch(/CHROMIUM_PATH/);
  });
});

describe('the real components', () => {
  it('runs a page in headless Chromium', async () => {
    await using chrome = await launchChromium();
    const context = await chrome.newContext();
    const page = await context.newPage();
    await page.setContent('<p id="x">ready</p>');
    expect(await page.textContent('#x')).toBe('ready');
  });

  it('starts redis-server on an ephemeral port, and kills and restarts it', async () => {
    await using redis = await startRedis();
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    const ping = () =>
      new Promise<string>((resolve) => {
        const socket = createConnection(redis.port, '127.0.0.1');
        socket.once('error', () => resolve('refused'));
        socket.once('data', (d) => {
          socket.destroy();
          resolve(d.toString().trim());
        });
        socket.write('PING\r\n');
      });
    expect(await ping()).toBe('+PONG');
    await redis.kill();
    expect(await ping()).toBe('refused');
    await redis.restart();
    expect(await ping()).toBe('+PONG');
  });
});
