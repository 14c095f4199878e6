import { type Static, type TLiteral, type TObject, type TUnion, Type } from '@sinclair/typebox';
import {
  FAILURE_HOSTS,
  FAILURE_STAGES,
  INSTALL_EVENTS,
  INSTALL_METHODS,
  MAX_DEVICE_NAME_LENGTH,
  MAX_ERROR_CLASS_LENGTH,
  MAX_IDENTIFIER_LENGTH,
  RUN_KINDS,
} from './constants.js';

// Field types. Every string has a length bound and a character class narrow
// enough that paths (`/`, `\`), whitespace-separated messages and code cannot
// travel in it; every number is finite and non-negative.

/** os, arch, release, codes, components: short tokens such as `macos`, `0.4.2+cuda`. */
export const Identifier = Type.String({
  minLength: 1,
  maxLength: MAX_IDENTIFIER_LENGTH,
  pattern: '^[A-Za-z0-9][A-Za-z0-9._+:-]*$',
});
/** Anonymous ids (cid, session_id): GUIDs in practice, any short safe token accepted. */
export const AnonymousId = Type.String({
  minLength: 1,
  maxLength: MAX_IDENTIFIER_LENGTH,
  pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]*$',
});
/** RFC 9562 textual UUID (PostHog rejects anything else as an event uuid). */
export const Uuid = Type.String({
  minLength: 36,
  maxLength: 36,
  pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
});
/** A short error class such as `RuntimeError::IndexOutOfBounds`; no spaces, so no messages. */
export const ErrorClass = Type.String({
  minLength: 1,
  maxLength: MAX_ERROR_CLASS_LENGTH,
  pattern: '^[A-Za-z0-9_.:-]+$',
});
/** Marketing name of a GPU, e.g. `NVIDIA RTX 4090`, `Apple M2 Max (Metal)`. */
export const DeviceName = Type.String({
  minLength: 1,
  maxLength: MAX_DEVICE_NAME_LENGTH,
  pattern: '^[A-Za-z0-9][A-Za-z0-9 ._()+,#@-]*$',
});
export const Count = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
export const Ratio = Type.Number({ minimum: 0, maximum: 1 });

const literalUnion = <T extends readonly string[]>(values: T) =>
  Type.Union(values.map((v) => Type.Literal(v))) as unknown as TUnion<TLiteral<T[number]>[]>;

export const RunKind = literalUnion(RUN_KINDS);
export const FailureStage = literalUnion(FAILURE_STAGES);
export const FailureHost = literalUnion(FAILURE_HOSTS);
export const InstallMethod = literalUnion(INSTALL_METHODS);

export const Counters = Type.Object({
  total_executions: Type.Optional(Count),
  jit_compiled: Type.Optional(Count),
  interpreter_fallback: Type.Optional(Count),
});

/** Legacy provider snapshot: device identity and GPU counters, nothing else. */
export const Provider = Type.Object({
  device: Type.Optional(
    Type.Object({
      name: Type.Optional(DeviceName),
      vendor: Type.Optional(Identifier),
      backend: Type.Optional(Identifier),
    }),
  ),
  telemetry: Type.Optional(
    Type.Object({
      gpu_dispatches: Type.Optional(Count),
      gpu_wall_ns: Type.Optional(Count),
      upload_bytes: Type.Optional(Count),
      download_bytes: Type.Optional(Count),
      fusion_cache_hits: Type.Optional(Count),
      fusion_cache_misses: Type.Optional(Count),
    }),
  ),
});

export const StartedPayload = Type.Object({
  jit_enabled: Type.Boolean(),
  accelerate_enabled: Type.Boolean(),
  timestamp_ms: Type.Optional(Count),
});

export const FinishedPayload = Type.Object({
  duration_us: Type.Optional(Count),
  success: Type.Boolean(),
  jit_enabled: Type.Optional(Type.Boolean()),
  jit_used: Type.Optional(Type.Boolean()),
  accelerate_enabled: Type.Optional(Type.Boolean()),
  timestamp_ms: Type.Optional(Count),
  error: Type.Optional(ErrorClass),
  counters: Type.Optional(Counters),
  gpu_wall_ns: Type.Optional(Count),
  gpu_ratio: Type.Optional(Ratio),
  gpu_dispatches: Type.Optional(Count),
  gpu_upload_bytes: Type.Optional(Count),
  gpu_download_bytes: Type.Optional(Count),
  fusion_cache_hits: Type.Optional(Count),
  fusion_cache_misses: Type.Optional(Count),
  fusion_hit_ratio: Type.Optional(Ratio),
  provider: Type.Optional(Provider),
  'runtime.failure.stage': Type.Optional(FailureStage),
  'runtime.failure.code': Type.Optional(Identifier),
  'runtime.failure.has_span': Type.Optional(Type.Boolean()),
  'runtime.failure.host': Type.Optional(FailureHost),
  'runtime.failure.component': Type.Optional(Identifier),
});

const envelope = <L extends string, P extends TObject>(
  label: L,
  payload: P,
  uuid: 'required' | 'optional',
) =>
  Type.Object({
    event_label: Type.Literal(label),
    uuid: uuid === 'required' ? Uuid : Type.Optional(Uuid),
    cid: Type.Optional(AnonymousId),
    session_id: AnonymousId,
    os: Identifier,
    arch: Identifier,
    release: Type.Optional(Identifier),
    run_kind: RunKind,
    payload,
  });

/** `runtime.run.started`: the canonical envelope always carries its uuid. */
export const CanonicalStartedEvent = envelope('runtime.run.started', StartedPayload, 'required');
/** `runtime.run.finished`. */
export const CanonicalFinishedEvent = envelope('runtime.run.finished', FinishedPayload, 'required');
/** Legacy `runtime_started`; older clients sent no uuid. */
export const LegacyStartedEvent = envelope('runtime_started', StartedPayload, 'optional');
/** Legacy `runtime_finished`, usually with the `provider {device, telemetry}` block. */
export const LegacyFinishedEvent = envelope('runtime_finished', FinishedPayload, 'optional');

/** Installer events (`install_start`, `install_complete`, `install_failed`). */
export const InstallEvent = Type.Object({
  event_label: literalUnion(INSTALL_EVENTS),
  uuid: Type.Optional(Uuid),
  cid: Type.Optional(AnonymousId),
  session_id: AnonymousId,
  os: Identifier,
  arch: Identifier,
  platform: Type.Optional(Identifier),
  release: Type.Optional(Identifier),
  method: InstallMethod,
  run_kind: Type.Optional(Type.Literal('install')),
});

export type CanonicalStartedEvent = Static<typeof CanonicalStartedEvent>;
export type CanonicalFinishedEvent = Static<typeof CanonicalFinishedEvent>;
export type LegacyStartedEvent = Static<typeof LegacyStartedEvent>;
export type LegacyFinishedEvent = Static<typeof LegacyFinishedEvent>;
export type InstallEvent = Static<typeof InstallEvent>;
export type StartedPayload = Static<typeof StartedPayload>;
export type FinishedPayload = Static<typeof FinishedPayload>;
export type ProviderSnapshot = Static<typeof Provider>;
export type ExecutionCounters = Static<typeof Counters>;
export type RunKind = Static<typeof RunKind>;
export type FailureStage = Static<typeof FailureStage>;
export type FailureHost = Static<typeof FailureHost>;
export type InstallMethod = Static<typeof InstallMethod>;
export type InstallEventName = (typeof INSTALL_EVENTS)[number];

/** Any event the contract accepts, as sent on the wire. */
export type TelemetryEvent =
  | CanonicalStartedEvent
  | CanonicalFinishedEvent
  | LegacyStartedEvent
  | LegacyFinishedEvent
  | InstallEvent;

/** Wire name to schema, the single table `parseEvent` dispatches on. */
export const EVENT_SCHEMAS = {
  'runtime.run.started': CanonicalStartedEvent,
  'runtime.run.finished': CanonicalFinishedEvent,
  runtime_started: LegacyStartedEvent,
  runtime_finished: LegacyFinishedEvent,
  install_start: InstallEvent,
  install_complete: InstallEvent,
  install_failed: InstallEvent,
} as const;

/** Every accepted wire name. */
export type WireEventName = keyof typeof EVENT_SCHEMAS;
