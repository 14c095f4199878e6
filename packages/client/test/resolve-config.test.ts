import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig, TelemetryConfigError } from '../src/index.js';
import { tempDir } from './helpers/collectors.js';

let home: string;
let project: string;
const cleanups: (() => void)[] = [];

beforeEach(() => {
  const h = tempDir();
  const p = tempDir();
  cleanups.push(h.cleanup, p.cleanup);
  home = h.dir;
  project = p.dir;
});
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const write = (path: string, text: string) => {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
};
const userConfig = () => join(home, '.config', 'runmat', 'config.toml');
const legacyConfig = () => join(home, '.runmat', 'config.toml');
const resolve = (
  env: Record<string, string> = {},
  extra: Parameters<typeof resolveConfig>[0] = {},
) => resolveConfig({ env: { HOME: home, ...env }, cwd: project, ...extra });

function configError(fn: () => unknown): TelemetryConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TelemetryConfigError);
    return err as TelemetryConfigError;
  }
  throw new Error('expected a TelemetryConfigError');
}

describe('resolveConfig defaults and precedence', () => {
  it('uses the documented defaults with no files', () => {
    const r = resolve();
    expect(r.config).toEqual({
      enabled: true,
      show_payloads: false,
      http_endpoint: '',
      udp_endpoint: 'udp.telemetry.runmat.com:7846',
      queue_size: 256,
      sync_mode: false,
      drain_mode: 'all',
      drain_timeout_ms: 50,
      require_ingestion_key: true,
    });
    expect(Object.values(r.sources).every((s) => s === 'default')).toBe(true);
    expect(r.enabled).toBe(true);
    expect(r.deliveryEnabled).toBe(false);
    expect(r.deliveryDisabledReason).toMatch(/RUNMAT_TELEMETRY_KEY/);
    expect(r.paths.idFile).toBe(join(home, '.runmat', 'telemetry_id'));
  });

  it('layers user < project (walking up) < env < code, reporting each source with its line', () => {
    write(
      userConfig(),
      '[runtime.telemetry]\nqueue_size = 100\ndrain_timeout_ms = 70\nshow_payloads = true\n',
    );
    const nested = join(project, 'a', 'b');
    mkdirSync(nested, { recursive: true });
    write(
      join(project, 'runmat.toml'),
      '# project\n[runtime.telemetry]\n\ndrain_timeout_ms = 80\nsync_mode = true\n',
    );
    const r = resolveConfig({
      env: { HOME: home, RUNMAT_TELEMETRY_DRAIN: 'none', RUNMAT_TELEMETRY_KEY: 'k1' },
      cwd: nested,
      config: { sync_mode: false, drain_mode: 'all' },
    });
    expect(r.config.queue_size).toBe(100);
    expect(r.sources.queue_size).toBe(`${userConfig()}:2`);
    expect(r.config.show_payloads).toBe(true);
    expect(r.config.drain_timeout_ms).toBe(80);
    expect(r.sources.drain_timeout_ms).toBe(`${join(project, 'runmat.toml')}:4`);
    expect(r.config.drain_mode).toBe('none');
    expect(r.sources.drain_mode).toBe('env RUNMAT_TELEMETRY_DRAIN');
    expect(r.config.sync_mode).toBe(false);
    expect(r.sources.sync_mode).toBe('code');
    expect(r.ingestionKey).toBe('k1');
    expect(r.deliveryEnabled).toBe(true);
  });

  it('RUNMAT_CONFIG wins over a runmat.toml in the working directory, and reads JSON', () => {
    write(join(project, 'runmat.toml'), '[runtime.telemetry]\nqueue_size = 20\n');
    const json = write(
      join(home, 'elsewhere', 'runmat.json'),
      '{\n  "runtime": {\n    "telemetry": {\n      "queue_size": 30\n    }\n  }\n}\n',
    );
    const r = resolve({ RUNMAT_CONFIG: json });
    expect(r.config.queue_size).toBe(30);
    expect(r.sources.queue_size).toBe(`${json}:4`);
  });

  it('clamps queue_size to at least 8 and drain_timeout_ms to at most 5000', () => {
    write(
      join(project, 'runmat.toml'),
      '[runtime.telemetry]\nqueue_size = 2\ndrain_timeout_ms = 60000\n',
    );
    const r = resolve();
    expect(r.config.queue_size).toBe(8);
    expect(r.config.drain_timeout_ms).toBe(5000);
  });

  it('the embedded key is absent in source builds, and require_ingestion_key = false allows delivery', () => {
    write(join(project, 'runmat.toml'), '[runtime.telemetry]\nrequire_ingestion_key = false\n');
    const r = resolve();
    expect(r.ingestionKeySource).toBe('none');
    expect(r.deliveryEnabled).toBe(true);
  });
});

describe('opt-outs', () => {
  it.each([
    [{ RUNMAT_NO_TELEMETRY: '1' }, /RUNMAT_NO_TELEMETRY/],
    [{ RUNMAT_TELEMETRY: '0' }, /RUNMAT_TELEMETRY=0/],
    [{ DO_NOT_TRACK: '1' }, /DO_NOT_TRACK/],
    [{ RUNMAT_NO_TELEMETRY: 'true' }, /RUNMAT_NO_TELEMETRY/],
  ])('env %o disables even when code says enabled', (env, reason) => {
    const r = resolve({ ...env, RUNMAT_TELEMETRY_KEY: 'k' }, { config: { enabled: true } });
    expect(r.enabled).toBe(false);
    expect(r.deliveryEnabled).toBe(false);
    expect(r.disabledReasons.join()).toMatch(reason);
  });

  it('DO_NOT_TRACK=0 and RUNMAT_TELEMETRY=1 do not disable', () => {
    expect(resolve({ DO_NOT_TRACK: '0', RUNMAT_TELEMETRY: '1' }).enabled).toBe(true);
  });

  it('consent false disables', () => {
    const r = resolve({ RUNMAT_TELEMETRY_KEY: 'k' }, { telemetryConsent: false });
    expect(r.enabled).toBe(false);
    expect(r.disabledReasons).toContain('telemetryConsent is false');
  });

  it('enabled = false in the user config cannot be undone by a project file or code', () => {
    write(userConfig(), '[runtime.telemetry]\nenabled = false\n');
    write(join(project, 'runmat.toml'), '[runtime.telemetry]\nenabled = true\n');
    const r = resolve({}, { config: { enabled: true } });
    expect(r.enabled).toBe(false);
    expect(r.sources.enabled).toBe(`${userConfig()}:2`);
    expect(r.disabledReasons[0]).toContain(userConfig());
  });

  it('the older ~/.runmat/config.toml [telemetry] enabled = false disables', () => {
    write(legacyConfig(), '[telemetry]\nenabled = false\n');
    const r = resolve();
    expect(r.enabled).toBe(false);
    expect(r.sources.enabled).toBe(`${legacyConfig()}:2`);
  });

  it('enabled = false in the project config disables', () => {
    write(join(project, 'runmat.json'), '{"runtime":{"telemetry":{"enabled":false}}}');
    expect(resolve().enabled).toBe(false);
  });
});

describe('malformed configuration', () => {
  it('invalid TOML names the file and line', () => {
    const path = write(
      join(project, 'runmat.toml'),
      '[runtime.telemetry]\nenabled = true\nqueue_size = = 3\n',
    );
    const err = configError(() => resolve());
    expect(err.code).toBe('malformed_file');
    expect(err.file).toBe(path);
    expect(err.line).toBe(3);
    expect(err.message).toContain(`${path}:3`);
  });

  it('invalid JSON names the file and line', () => {
    const path = write(
      join(project, 'runmat.json'),
      '{\n  "runtime": {\n    "telemetry": { "enabled": tru }\n  }\n}\n',
    );
    const err = configError(() => resolve());
    expect(err.code).toBe('malformed_file');
    expect(err.file).toBe(path);
    expect(err.line).toBe(3);
  });

  it('a wrong-typed key names the file, key and line', () => {
    const path = write(
      join(project, 'runmat.toml'),
      '[other]\nenabled = 1\n\n[runtime.telemetry]\nshow_payloads = true\nenabled = "yes"\n',
    );
    const err = configError(() => resolve());
    expect(err.code).toBe('wrong_type');
    expect(err.key).toBe('runtime.telemetry.enabled');
    expect(err.line).toBe(6);
    expect(err.message).toContain(path);
    expect(err.message).toContain('expected a boolean');
  });

  it.each([
    ['queue_size = "big"', 'wrong_type', 'runtime.telemetry.queue_size'],
    ['queue_size = -4', 'invalid_value', 'runtime.telemetry.queue_size'],
    ['drain_mode = "some"', 'invalid_value', 'runtime.telemetry.drain_mode'],
    ['http_endpoint = "ftp://x"', 'invalid_value', 'runtime.telemetry.http_endpoint'],
    ['udp_endpoint = "nohostport"', 'invalid_value', 'runtime.telemetry.udp_endpoint'],
    ['drain_timeout_ms = 1.5', 'invalid_value', 'runtime.telemetry.drain_timeout_ms'],
  ])('%s is rejected as %s', (line, code, key) => {
    write(join(project, 'runmat.toml'), `[runtime.telemetry]\n${line}\n`);
    const err = configError(() => resolve());
    expect(err.code).toBe(code);
    expect(err.key).toBe(key);
    expect(err.line).toBe(2);
  });

  it('a malformed user config is reported too', () => {
    const path = write(userConfig(), '[runtime.telemetry\n');
    const err = configError(() => resolve());
    expect(err.file).toBe(path);
    expect(err.line).toBe(1);
  });

  it('runtime.telemetry that is not a table is a wrong type', () => {
    write(join(project, 'runmat.toml'), '[runtime]\ntelemetry = 3\n');
    const err = configError(() => resolve());
    expect(err.code).toBe('wrong_type');
    expect(err.key).toBe('runtime.telemetry');
  });

  it('RUNMAT_CONFIG pointing at nothing is an error', () => {
    const err = configError(() => resolve({ RUNMAT_CONFIG: join(project, 'missing.toml') }));
    expect(err.code).toBe('unreadable_file');
  });

  it('a wrong-typed code option names the key', () => {
    const err = configError(() =>
      resolve({}, { config: { queue_size: 'x' as unknown as number } }),
    );
    expect(err.key).toBe('queue_size');
  });

  it('unknown keys are warnings, not errors', () => {
    write(join(project, 'runmat.toml'), '[runtime.telemetry]\nenable = false\n');
    const r = resolve();
    expect(r.enabled).toBe(true);
    expect(r.warnings.join()).toMatch(/unknown key "enable"/);
  });
});
