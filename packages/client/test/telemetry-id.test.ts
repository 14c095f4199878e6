import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createTelemetry,
  loadOrCreateTelemetryId,
  readTelemetryId,
  resetTelemetryId,
} from '../src/index.js';
import { tempDir } from './helpers/collectors.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
let home: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir: home, cleanup } = tempDir());
});
afterEach(() => cleanup());

const idFile = () => join(home, '.runmat', 'telemetry_id');

describe('telemetry id file', () => {
  it('creates a GUID with user-only permissions and no temp files left behind', () => {
    const id = loadOrCreateTelemetryId(idFile());
    expect(id.source).toBe('created');
    expect(id.id).toMatch(GUID);
    expect(readFileSync(idFile(), 'utf8').trim()).toBe(id.id);
    expect(statSync(idFile()).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, '.runmat')).mode & 0o777).toBe(0o700);
    expect(readdir()).toEqual(['telemetry_id']);
  });

  it('reuses the existing id', () => {
    const first = loadOrCreateTelemetryId(idFile());
    const second = loadOrCreateTelemetryId(idFile());
    expect(second).toEqual({ id: first.id, source: 'file', path: idFile() });
  });

  it('replaces a file holding something that is not a safe id', () => {
    loadOrCreateTelemetryId(idFile());
    writeFileSync(idFile(), '/home/me/secret path\n');
    const id = loadOrCreateTelemetryId(idFile());
    expect(id.source).toBe('created');
    expect(id.id).toMatch(GUID);
  });

  it('reset mints a different id', () => {
    const first = loadOrCreateTelemetryId(idFile());
    const next = resetTelemetryId(idFile());
    expect(next).not.toBe(first.id);
    expect(readTelemetryId(idFile())).toBe(next);
  });

  it('an unwritable home falls back to a per-process id without throwing', () => {
    // A regular file where the home directory should be: mkdir fails even for root.
    const fakeHome = join(home, 'not-a-dir');
    writeFileSync(fakeHome, 'x');
    const id = loadOrCreateTelemetryId(join(fakeHome, '.runmat', 'telemetry_id'));
    expect(id.source).toBe('ephemeral');
    expect(id.id).toMatch(GUID);
    expect(id.problem).toMatch(/ENOTDIR|EEXIST/);

    const t = createTelemetry({
      env: { HOME: fakeHome, RUNMAT_TELEMETRY_KEY: 'k' },
      cwd: home,
      drainOnExit: false,
    });
    expect(t.enabled).toBe(true);
    expect(t.clientIdSource).toBe('ephemeral');
    expect(t.clientId).toMatch(GUID);
  });

  it('createTelemetry creates the id only when enabled, and a host id wins', async () => {
    const off = createTelemetry({
      env: { HOME: home, RUNMAT_NO_TELEMETRY: '1', RUNMAT_TELEMETRY_KEY: 'k' },
      cwd: home,
    });
    expect(off.enabled).toBe(false);
    expect(off.clientId).toBeUndefined();
    expect(existsSync(idFile())).toBe(false);

    const host = createTelemetry({
      env: { HOME: home, RUNMAT_TELEMETRY_KEY: 'k' },
      cwd: home,
      telemetryId: 'host-id-1',
      drainOnExit: false,
    });
    expect(host.clientId).toBe('host-id-1');
    expect(host.clientIdSource).toBe('host');
    expect(existsSync(idFile())).toBe(false);

    const on = createTelemetry({
      env: { HOME: home, RUNMAT_TELEMETRY_KEY: 'k' },
      cwd: home,
      drainOnExit: false,
    });
    expect(on.clientIdSource).toBe('created');
    expect(readTelemetryId(idFile())).toBe(on.clientId);
    await Promise.all([off.shutdown(), host.shutdown(), on.shutdown()]);
  });
});

function readdir(): string[] {
  return readdirSync(join(home, '.runmat'));
}
