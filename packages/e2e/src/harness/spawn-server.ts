// The server spawner lives in the shared test kit; the harness and the local
// command use it from there (the entry point without the browser driver).
export {
  childEnv,
  type ExitInfo,
  type ListeningLine,
  type ServerProcess,
  type SpawnProcessOptions,
  type SpawnServerOptions,
  spawnProcess,
  spawnServer,
  type TestProcess,
} from '@runmat-telemetry/test-kit/spawn-server';
