import { ConfigError } from './config-error.js';

/**
 * One environment variable: its name, its docs and how its text becomes a
 * typed value. Built by the field types (`port`, `integer`, `url`, ...) and
 * composed into an app's schema object.
 */
export interface EnvField<T, V extends string = string> {
  /** The environment variable. */
  readonly variable: V;
  /** One line for the README table. */
  readonly description: string;
  /** The README table's default cell (Markdown): `` `8080` ``, `required`, `unset`. */
  readonly defaultText: string;
  /** Never printed: not in errors, not in the table's default cell. */
  readonly secret: boolean;
  /** What the field accepts when the description does not say it (`1-256`). */
  readonly accepts?: string;
  /**
   * The value for `text`, the variable's trimmed value (undefined when unset
   * or blank). Throws {@link ConfigError} naming the variable.
   */
  read(text: string | undefined): T;
}

/** What every field type takes. */
export interface FieldOptions<T> {
  description: string;
  /** The value when unset or blank. */
  default?: T;
  /** Unset or blank is an error (`missing X: it is required`). */
  required?: boolean;
  /** The docs' default cell when the default is computed (e.g. "from the memory budget"). */
  defaultText?: string;
}

/** The value type of a field built with options `O`: `T`, or `T | undefined` when optional. */
export type FieldValue<T, O> = O extends { default: unknown }
  ? T
  : O extends { required: true }
    ? T
    : T | undefined;

/** Parses a set, trimmed value; throws `ConfigError` naming `variable`. */
export type Parse<T> = (text: string, variable: string) => T;

/** `"text"` for a message, unless the value is a secret. */
export function quote(text: string, secret = false): string {
  return secret ? '(the value is not repeated: it is a secret)' : `got ${JSON.stringify(text)}`;
}

/** A field from its options and a parser; the field types are built on this. */
export function defineField<T, const V extends string, const O extends FieldOptions<T>>(
  variable: V,
  options: O,
  parse: Parse<T>,
  show: (value: T) => string = (value) => `\`${String(value)}\``,
  secret = false,
  accepts?: string,
): EnvField<FieldValue<T, O>, V> {
  const fallback = options.default;
  const defaultText =
    options.defaultText ??
    (fallback !== undefined ? show(fallback) : options.required ? 'required' : 'unset');
  return {
    variable,
    description: options.description,
    defaultText,
    secret,
    ...(accepts === undefined ? {} : { accepts }),
    read(text) {
      if (text === undefined) {
        if (fallback !== undefined) return fallback as FieldValue<T, O>;
        if (options.required) throw ConfigError.missing(variable);
        return undefined as FieldValue<T, O>;
      }
      return parse(text, variable) as FieldValue<T, O>;
    },
  };
}
