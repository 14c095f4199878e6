import type { EnvField } from './env-field.js';

/** An app's settings: config key -> field. Order is the docs table's and the check order. */
export type EnvSchema = Record<string, EnvField<unknown, string>>;

/** The environment a loader reads (`process.env`, or a test's object). */
export type Env = Record<string, string | undefined>;

/** The typed values of a schema. */
export type EnvValues<S extends EnvSchema> = {
  [K in keyof S]: S[K] extends EnvField<infer T, string> ? T : never;
};

/** Config key -> environment variable, with literal names. */
export type EnvVariables<S extends EnvSchema> = {
  readonly [K in keyof S]: S[K]['variable'];
};

/** Identity with the schema's types kept: `const schema = envSchema({ port: port('PORT', ...) })`. */
export function envSchema<const S extends EnvSchema>(schema: S): S {
  return schema;
}

/** A variable's trimmed value; blank counts as unset. */
export function envText(env: Env, variable: string): string | undefined {
  const v = env[variable]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/**
 * Reads every field of `schema` from `env`, in schema order. Throws the
 * first {@link ConfigError}; no side effects.
 */
export function loadEnv<S extends EnvSchema>(schema: S, env: Env): EnvValues<S> {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(schema)) {
    out[key] = field.read(envText(env, field.variable));
  }
  return out as EnvValues<S>;
}

/** Config key -> environment variable (`WORKER_ENV.port === 'PORT'`). */
export function envVariables<const S extends EnvSchema>(schema: S): EnvVariables<S> {
  return Object.fromEntries(
    Object.entries(schema).map(([key, field]) => [key, field.variable]),
  ) as EnvVariables<S>;
}

/** The variables whose values must never be logged, in schema order. */
export function secretVariables(schema: EnvSchema): string[] {
  return Object.values(schema)
    .filter((f) => f.secret)
    .map((f) => f.variable);
}
