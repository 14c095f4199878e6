import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';

/**
 * One memory budget for the whole worker process, and everything sized from
 * it: the forward queues (in bytes), the dedupe window (entries), V8's
 * old-space limit, and the lines at which the worker stops being ready and
 * starts shedding.
 *
 * Where the budget comes from, first match wins:
 * 1. `MEMORY_LIMIT_MIB` (what Terraform sets from the Cloud Run limit);
 * 2. the container's cgroup limit: `/sys/fs/cgroup/memory.max` (cgroup v2),
 *    else `/sys/fs/cgroup/memory/memory.limit_in_bytes` (v1);
 * 3. {@link DEFAULT_MEMORY_BUDGET_MIB}, when there is no limit ("max" in v2,
 *    the huge "unlimited" number in v1, or no cgroup files at all), capped at
 *    the machine's RAM.
 */

/** Budget used when neither MEMORY_LIMIT_MIB nor a cgroup limit says otherwise. */
export const DEFAULT_MEMORY_BUDGET_MIB = 512;
/** Smallest budget the worker starts with: below this, Node alone does not fit. */
export const MIN_MEMORY_BUDGET_MIB = 128;
export const MAX_MEMORY_BUDGET_MIB = 1024 * 1024;

export const CGROUP_V2_LIMIT = '/sys/fs/cgroup/memory.max';
export const CGROUP_V1_LIMIT = '/sys/fs/cgroup/memory/memory.limit_in_bytes';

const MIB = 1024 * 1024;

/**
 * RSS of an idle worker (Node, its modules, 16 posthog-node lanes, the
 * dedupe window's arrays): measured at 92-95 MiB with `node dist/server.js`
 * on Node 20. It is there whatever the load, so the queues are sized from
 * what is left of the budget after it.
 */
export const BASELINE_RSS_MIB = 96;

/**
 * Shares of the budget. The queues are the only thing that grows with load
 * (everything else is bounded per request or fixed), so they get a share
 * each of what the baseline leaves, and the lines below leave room for the
 * rest: V8's young generation (3 semi-spaces), requests being parsed,
 * batches being gzipped and sent. Measured with `pnpm bench` (the overload
 * phase), see the README.
 */
export const MEMORY_SHARES = {
  /** Forward queue per destination (PostHog and GA4 each), of (budget - baseline), in bytes of held events. */
  queuePerDestination: 0.12,
  /** The local dedupe window (its typed arrays). */
  dedupeWindow: 0.02,
  /** V8 old space (`--max-old-space-size`). */
  oldSpace: 0.5,
  /** RSS above which `/readyz` answers 503 (`memory_pressure`). */
  notReady: 0.6,
  /** RSS above which ingest requests are shed with 503 `overloaded` + Retry-After. */
  shed: 0.7,
  /** V8 heap in use (share of the old-space limit) above which requests are shed too. */
  shedHeapOfOldSpace: 0.85,
} as const;

/** Bytes one remembered uuid costs in the dedupe window (4 words, an expiry, two index slots). */
export const DEDUPE_BYTES_PER_ENTRY = 32;

export type BudgetSource = 'MEMORY_LIMIT_MIB' | 'cgroup v2' | 'cgroup v1' | 'default';

export interface MemoryBudget {
  bytes: number;
  source: BudgetSource;
}

/** How the worker reads files for the budget; replaced in tests. */
export type ReadText = (path: string) => string | undefined;

export const readTextFile: ReadText = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/**
 * A cgroup limit in bytes, or undefined when there is none. v2 writes "max"
 * for no limit; v1 writes a page-rounded 2^63 - 1, so anything at or above
 * the machine's RAM is no limit either.
 */
export function parseCgroupLimit(
  text: string | undefined,
  machineBytes: number,
): number | undefined {
  const v = text?.trim();
  if (v === undefined || v === '' || v === 'max') return undefined;
  if (!/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n >= machineBytes || n >= 2 ** 60) return undefined;
  return n;
}

/** The budget from an explicit MiB figure (already validated) or the cgroup, else the default. */
export function resolveMemoryBudget(
  explicitMiB: number | undefined,
  read: ReadText = readTextFile,
  machineBytes: number = totalmem(),
): MemoryBudget {
  if (explicitMiB !== undefined) return { bytes: explicitMiB * MIB, source: 'MEMORY_LIMIT_MIB' };
  const v2 = parseCgroupLimit(read(CGROUP_V2_LIMIT), machineBytes);
  if (v2 !== undefined) return { bytes: v2, source: 'cgroup v2' };
  const v1 = parseCgroupLimit(read(CGROUP_V1_LIMIT), machineBytes);
  if (v1 !== undefined) return { bytes: v1, source: 'cgroup v1' };
  return {
    bytes: Math.min(
      DEFAULT_MEMORY_BUDGET_MIB * MIB,
      Math.max(machineBytes, MIN_MEMORY_BUDGET_MIB * MIB),
    ),
    source: 'default',
  };
}

/** What the budget sizes. All in bytes except where named otherwise. */
export interface MemoryPlan {
  budgetBytes: number;
  source: BudgetSource;
  /** `--max-old-space-size` in MiB. */
  oldSpaceMiB: number;
  /**
   * Largest `--max-semi-space-size` (MiB) the budget affords: 32 (what the
   * image sets) from 512 MiB up, a sixteenth of the budget below.
   */
  maxSemiSpaceMiB: number;
  /** Bytes of held events per forward destination before 503 queue_full. */
  queueBytesPerDestination: number;
  /** Entries of the local dedupe window. */
  dedupeEntries: number;
  /** RSS at which /readyz turns 503. */
  notReadyRssBytes: number;
  /** RSS at which ingest requests are shed (503 overloaded). */
  shedRssBytes: number;
  /** Heap used at which ingest requests are shed. */
  shedHeapUsedBytes: number;
}

export function planMemory(budget: MemoryBudget): MemoryPlan {
  const b = budget.bytes;
  const oldSpaceMiB = Math.max(64, Math.floor((b * MEMORY_SHARES.oldSpace) / MIB));
  return {
    budgetBytes: b,
    source: budget.source,
    oldSpaceMiB,
    maxSemiSpaceMiB: Math.max(4, Math.min(32, Math.floor(b / MIB / 16))),
    queueBytesPerDestination: Math.max(
      MIB,
      Math.floor((b - BASELINE_RSS_MIB * MIB) * MEMORY_SHARES.queuePerDestination),
    ),
    dedupeEntries: Math.floor((b * MEMORY_SHARES.dedupeWindow) / DEDUPE_BYTES_PER_ENTRY),
    notReadyRssBytes: Math.floor(b * MEMORY_SHARES.notReady),
    shedRssBytes: Math.floor(b * MEMORY_SHARES.shed),
    shedHeapUsedBytes: Math.floor(oldSpaceMiB * MIB * MEMORY_SHARES.shedHeapOfOldSpace),
  };
}

/** The V8 flag the container entrypoint adds to NODE_OPTIONS for this plan. */
export function oldSpaceFlag(plan: MemoryPlan): string {
  return `--max-old-space-size=${plan.oldSpaceMiB}`;
}

/**
 * The V8 flags the entrypoint appends to `nodeOptions` (V8 takes the last
 * of a repeated flag): the old space from the budget unless nodeOptions sets
 * it (an operator's choice), and the semi-space capped by the budget when
 * nodeOptions asks for more (the image's 32 MiB is too much for a small
 * container) or says nothing and the budget is under 512 MiB.
 */
export function heapFlags(plan: MemoryPlan, nodeOptions: string): string[] {
  const flags: string[] = [];
  if (!/--max-old-space-size[=\s]/.test(nodeOptions)) flags.push(oldSpaceFlag(plan));
  const semi = [...nodeOptions.matchAll(/--max-semi-space-size[=\s]+(\d+)/g)].pop()?.[1];
  const asked = semi === undefined ? 16 : Number(semi);
  if (asked > plan.maxSemiSpaceMiB) flags.push(`--max-semi-space-size=${plan.maxSemiSpaceMiB}`);
  return flags;
}
