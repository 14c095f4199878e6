/**
 * Field types of the contract: each checks one decoded JSON value and, where
 * the policy allows it, normalizes it. Written without `eval`, `new Function`
 * or `node:` imports, so the same code runs in the worker, the forwarder, the
 * client and a browser page with a strict Content-Security-Policy.
 */
import {
  MAX_DEVICE_NAME_LENGTH,
  MAX_ERROR_CLASS_LENGTH,
  MAX_IDENTIFIER_LENGTH,
  MAX_VENDOR_LENGTH,
} from './constants.js';

/**
 * Why a value does not fit its field. Event-level rejections use the same
 * words (see `REJECT_CODES`), so a dashboard reads one vocabulary.
 */
export type ValueProblem = 'wrong_type' | 'out_of_range' | 'invalid_string' | 'invalid_value';

/** The outcome of checking one value: kept (possibly rewritten) or refused. */
export type Checked<T> =
  | { ok: true; value: T; normalized: boolean }
  | { ok: false; problem: ValueProblem };

/** A field type: its documented bound and the function that applies it. */
export interface FieldType<T = unknown> {
  /** Short name used in the policy table (`identifier`, `count`...). */
  readonly name: string;
  /** The bound, in words, for the schema README. */
  readonly bound: string;
  /** What the normalizing rule does, in words, when there is one. */
  readonly rule?: string;
  check(value: unknown): Checked<T>;
}

const kept = <T>(value: T, normalized = false): Checked<T> => ({ ok: true, value, normalized });
const refused = (problem: ValueProblem): Checked<never> => ({ ok: false, problem });

const IDENTIFIER_RE = /^[A-Za-z0-9][A-Za-z0-9._+:-]*$/;
const ANONYMOUS_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const ERROR_CLASS_RE = /^[A-Za-z][A-Za-z0-9_.:-]*$/;

function token(re: RegExp, max: number, name: string, bound: string): FieldType<string> {
  return {
    name,
    bound,
    check(value) {
      if (typeof value !== 'string') return refused('wrong_type');
      if (value.length === 0 || value.length > max || !re.test(value)) {
        return refused('invalid_string');
      }
      return kept(value);
    },
  };
}

/** os, arch, release, codes: short tokens such as `macos`, `0.4.2+cuda`, `RunMat:ParserError`. */
export const identifier = token(
  IDENTIFIER_RE,
  MAX_IDENTIFIER_LENGTH,
  'identifier',
  `1-${MAX_IDENTIFIER_LENGTH} chars of [A-Za-z0-9._+:-], starting alphanumeric`,
);

/** cid, session_id: GUIDs in practice; any short safe token is accepted. */
export const anonymousId = token(
  ANONYMOUS_ID_RE,
  MAX_IDENTIFIER_LENGTH,
  'anonymous id',
  `1-${MAX_IDENTIFIER_LENGTH} chars of [A-Za-z0-9._:-], starting alphanumeric`,
);

/** RFC 9562 textual UUID, lower-cased (PostHog refuses anything else as an event uuid). */
export const uuid: FieldType<string> = {
  name: 'uuid',
  bound: 'RFC 9562 textual UUID (36 chars), stored lower-case',
  check(value) {
    if (typeof value !== 'string') return refused('wrong_type');
    if (!UUID_RE.test(value)) return refused('invalid_string');
    const lower = value.toLowerCase();
    return kept(lower, lower !== value);
  },
};

/**
 * An installer's event id: a UUID, or the token `install.sh` falls back to
 * without `uuidgen` and python3 (`<epoch>-<RANDOM>`). A token is kept as it
 * is; `normalizeEvent` turns it into a name-based UUID, so the same token is
 * always the same event.
 */
export const eventId: FieldType<string> = {
  name: 'event id',
  bound: `an RFC 9562 UUID, or ${anonymousId.bound} (hashed into a UUID by the worker)`,
  check(value) {
    const asUuid = uuid.check(value);
    if (asUuid.ok) return asUuid;
    return anonymousId.check(value);
  },
};

/** True when `value` is a textual UUID. */
export const isUuid = (value: string): boolean => UUID_RE.test(value);

/** Integer counts and sizes: finite, whole, non-negative, exact in a double. */
export const count: FieldType<number> = {
  name: 'count',
  bound: 'integer in [0, 2^53)',
  check(value) {
    if (typeof value !== 'number') return refused('wrong_type');
    if (!Number.isSafeInteger(value) || value < 0) return refused('out_of_range');
    return kept(value);
  },
};

/** Ratios: a number in [0, 1]. */
export const ratio: FieldType<number> = {
  name: 'ratio',
  bound: 'number in [0, 1]',
  check(value) {
    if (typeof value !== 'number') return refused('wrong_type');
    if (!(value >= 0 && value <= 1)) return refused('out_of_range');
    return kept(value);
  },
};

export const boolean: FieldType<boolean> = {
  name: 'boolean',
  bound: 'true or false',
  check(value) {
    return typeof value === 'boolean' ? kept(value) : refused('wrong_type');
  },
};

/** One of a fixed set of values, compared exactly. */
export function oneOf<const T extends string>(values: readonly T[]): FieldType<T> {
  const allowed = new Set<string>(values);
  return {
    name: 'enum',
    bound: values.map((v) => `\`${v}\``).join(', '),
    check(value) {
      if (typeof value !== 'string') return refused('wrong_type');
      return allowed.has(value) ? kept(value as T) : refused('invalid_value');
    },
  };
}

/**
 * A vocabulary token with aliases: case-insensitive, aliases mapped to their
 * canonical spelling, unknown but well-formed tokens kept lower-cased.
 */
export function vocabulary(
  name: string,
  aliases: Readonly<Record<string, string>>,
  rule: string,
): FieldType<string> {
  const table = new Map(Object.entries(aliases).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    name,
    bound: identifier.bound,
    rule,
    check(value) {
      const base = identifier.check(value);
      if (!base.ok) return base;
      const lower = base.value.toLowerCase();
      const canonical = table.get(lower) ?? lower;
      return kept(canonical, canonical !== base.value);
    },
  };
}

/** `v0.4.1` → `0.4.1`; otherwise an identifier. */
export const release: FieldType<string> = {
  name: 'release',
  bound: identifier.bound,
  rule: 'a leading `v` before a digit is removed (`v0.4.1` → `0.4.1`)',
  check(value) {
    const base = identifier.check(value);
    if (!base.ok) return base;
    const v = base.value;
    if ((v[0] === 'v' || v[0] === 'V') && v.charCodeAt(1) >= 48 && v.charCodeAt(1) <= 57) {
      return kept(v.slice(1), true);
    }
    return kept(v);
  },
};

/** An error class such as `RuntimeError` or `RunMat:IndexOutOfBounds`: no spaces, so never a message. */
export const errorClass = token(
  ERROR_CLASS_RE,
  MAX_ERROR_CLASS_LENGTH,
  'error class',
  `1-${MAX_ERROR_CLASS_LENGTH} chars of [A-Za-z0-9_.:-], starting with a letter (a class, never a message)`,
);

// Marks that carry no information in a product name.
const MARKS_RE = /[\u2122\u00ae\u00a9\u2120]/g;
const COMBINING_RE = /[\u0300-\u036f]/g;
const OUTSIDE_LABEL_RE = /[^A-Za-z0-9 ._()+,#@:-]+/g;
const LEADING_RE = /^[^A-Za-z0-9]+/;

/**
 * Text as drivers report it (`AMD Radeon™ 780M Graphics`, `GTX 1050/PCIe/SSE2`)
 * reduced to a safe label: trademark signs removed, accents folded (NFKD),
 * any other character outside the alphabet replaced by a space, spaces
 * collapsed, leading punctuation trimmed, cut to `max` characters.
 */
function label(name: string, max: number): FieldType<string> {
  return {
    name,
    bound: `1-${max} chars of [A-Za-z0-9 ._()+,#@:-], starting alphanumeric`,
    rule:
      'trademark signs removed, accents folded, other characters outside the alphabet ' +
      `(\`/\`, \`\\\`, \`™\`, control characters...) become a space, spaces collapsed, cut to ${max}; empty afterwards: dropped`,
    check(value) {
      if (typeof value !== 'string') return refused('wrong_type');
      // A value far beyond the bound is not a name; do not spend time on it.
      if (value.length > max * 4) return refused('invalid_string');
      let text = value;
      if (
        text.length > 0 &&
        (!/^[A-Za-z0-9][A-Za-z0-9 ._()+,#@:-]*$/.test(text) || text.length > max)
      ) {
        text = text
          .replace(MARKS_RE, '')
          .normalize('NFKD')
          .replace(COMBINING_RE, '')
          .replace(OUTSIDE_LABEL_RE, ' ')
          .replace(/ {2,}/g, ' ')
          .replace(LEADING_RE, '')
          .slice(0, max)
          .trimEnd();
      }
      if (text.length === 0) return refused('invalid_string');
      return kept(text, text !== value);
    },
  };
}

/** GPU marketing name as the driver reports it. */
export const deviceName = label('device name', MAX_DEVICE_NAME_LENGTH);

// PCI vendor ids wgpu reports when a driver gives no vendor name.
const PCI_VENDORS = new Map<string, string>([
  ['4098', 'AMD'], // 0x1002
  ['4318', 'NVIDIA'], // 0x10de
  ['32902', 'Intel'], // 0x8086
  ['4203', 'Apple'], // 0x106b
  ['20803', 'Qualcomm'], // 0x5143
  ['5045', 'ARM'], // 0x13b5
  ['5348', 'Microsoft'], // 0x1414
  ['65541', 'Mesa'], // 0x10005 (software rasterizers)
]);
const vendorLabel = label('vendor', MAX_VENDOR_LENGTH);

/** GPU vendor: a name, or a PCI vendor id (decimal or `0x` hex) mapped to the vendor's name. */
export const vendor: FieldType<string> = {
  name: 'vendor',
  bound: vendorLabel.bound,
  rule: `PCI vendor ids (\`4318\`, \`0x10de\`) become the vendor's name (\`NVIDIA\`); otherwise as a device name, cut to ${MAX_VENDOR_LENGTH}`,
  check(value) {
    const id =
      typeof value === 'number'
        ? String(value)
        : typeof value === 'string' && /^0x[0-9a-f]{1,8}$/i.test(value)
          ? String(Number.parseInt(value.slice(2), 16))
          : typeof value === 'string'
            ? value
            : undefined;
    const known = id === undefined ? undefined : PCI_VENDORS.get(id);
    if (known !== undefined) return kept(known, true);
    return vendorLabel.check(value);
  },
};
