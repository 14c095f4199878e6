/**
 * `pnpm bench`: throughput of the worker against a bare Fastify server.
 *
 * Layout (2-core friendly, and so CPU can be attributed): the server under
 * test runs in a forked child process; autocannon and the fake sink share the
 * parent. Worker CPU per event is the child's own `process.cpuUsage()` delta
 * (validation, normalization, posthog-node batching, gzip and the HTTP
 * requests to the sink) divided by the events it accepted; the sink's CPU is
 * not in it.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startFakeSink } from '@runmat-telemetry/fake-sink';
import { CANONICAL_FINISHED_EXAMPLE, ROUTES } from '@runmat-telemetry/schema';
import autocannon from 'autocannon';
import Fastify, { type FastifyInstance } from 'fastify';
import { buildApp, type WorkerApp } from '../app.js';
import { loadWorkerConfig } from '../config.js';
import type { Forwarder } from '../forward/forward-queue.js';
import {
  OVERLOAD_FACTOR,
  type OverloadResult,
  overloadPhase,
  RSS_TARGET_SHARE,
} from './overload-phase.js';

const KEY = 'bench-ingestion-key';
const BATCH_SIZE = 100;
const CONNECTIONS = 50;
/** `--quick` or BENCH_QUICK=1 (what `pnpm bench:quick` sets): shorter phases and warm-ups. */
const QUICK =
  process.argv.includes('--quick') ||
  ['1', 'true'].includes(process.env.BENCH_QUICK?.trim().toLowerCase() ?? '');
const WARMUP_SECONDS = QUICK ? 1 : 2;
const TARGET_RATIO_OF_BARE = 0.5;
const TARGET_BATCH_EVENTS_PER_S = 100_000;
const SETTLE_MS = 300;
/** The worker image's NODE_OPTIONS (apps/worker/Dockerfile; infra tests check they agree). */
const WORKER_NODE_OPTIONS = '--max-semi-space-size=32';
/** Memory budgets the overload phase runs the worker with (BENCH_OVERLOAD_BUDGETS, MiB, comma-separated). */
const OVERLOAD_BUDGETS = (process.env.BENCH_OVERLOAD_BUDGETS ?? (QUICK ? '512' : '512,256'))
  .split(',')
  .map((v) => Number(v.trim()))
  .filter((n) => Number.isInteger(n) && n > 0);
/** `--overload-only`: just the overload phase (the other phases take minutes). */
const OVERLOAD_ONLY = process.argv.includes('--overload-only');
const UUID_SLOT = '00000000-0000-4000-8000-000000000000';

type Role = 'worker' | 'intake' | 'bare';
type ToChild = { type: 'cpu-start' } | { type: 'cpu-stop' } | { type: 'stop' };
type FromChild =
  | { type: 'ready'; port: number }
  | {
      type: 'cpu';
      micros: number;
      accepted: number;
      forwarded: number;
      failed: number;
      depth: number;
    }
  | { type: 'stopped'; accepted: number };

// ---------------------------------------------------------------- child side

async function serve(role: Role, sinkUrl: string): Promise<void> {
  let worker: WorkerApp | undefined;
  let app: FastifyInstance;
  if (role === 'worker' || role === 'intake') {
    const config = loadWorkerConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      INGESTION_KEY: KEY,
      POSTHOG_API_KEY: 'phc_bench',
      POSTHOG_HOST: sinkUrl,
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      RATE_LIMIT_MAX: '0',
      QUEUE_CAPACITY: '200000',
      // The throughput phases measure speed: a budget whose queues (234 MiB
      // each) hold what QUEUE_CAPACITY does, so the memory bound is not what
      // pushes back. The overload phase measures the bound, at 512 and 256.
      MEMORY_LIMIT_MIB: '2048',
      MAX_EVENT_LOOP_DELAY_MS: '0',
      ...pick(process.env, /^(POSTHOG_|QUEUE_|DEDUPE_)/),
    });
    // `intake`: the same worker with forwarding replaced by a forwarder that
    // drops every event, to show what validation, normalization and dedupe
    // alone cost next to the full worker.
    const discard = (): Forwarder[] => [
      { destination: 'posthog', pending: () => 0, push: () => {}, close: async () => 0 },
    ];
    worker = buildApp(config, {
      ...(process.env.BENCH_NO_LOGGER ? { logger: false } : {}),
      ...(role === 'intake' ? { forwarders: discard } : {}),
    });
    app = worker.app;
  } else {
    // The same request answered with the same 202 body: JSON parse plus a serialized reply.
    app = Fastify({ logger: false }) as unknown as FastifyInstance;
    app.post(
      ROUTES.ingest,
      {
        schema: {
          response: {
            202: {
              type: 'object',
              properties: { status: { type: 'string' }, uuid: { type: 'string' } },
            },
          },
        },
      },
      async (request, reply) => {
        const body = request.body as { uuid?: string };
        return reply.code(202).send({ status: 'accepted', uuid: body.uuid ?? '' });
      },
    );
    // The batch ceiling: the same body read and JSON-parsed, answered with a count.
    app.post(ROUTES.batch, { bodyLimit: 1_048_576 }, async (request, reply) => {
      const body = request.body as { events?: unknown[] };
      return reply.code(200).send({ accepted: body.events?.length ?? 0 });
    });
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const accepted = async () => {
    if (!worker) return 0;
    const m = await worker.metrics.accepted.get();
    return m.values.reduce((sum, v) => sum + v.value, 0);
  };
  let cpu = process.cpuUsage();
  process.on('message', async (msg: ToChild) => {
    if (msg.type === 'cpu-start') cpu = process.cpuUsage();
    if (msg.type === 'cpu-stop') {
      const d = process.cpuUsage(cpu);
      send({
        type: 'cpu',
        micros: d.user + d.system,
        accepted: await accepted(),
        forwarded: worker
          ? worker.metrics.deliverySources.reduce((n, d) => n + d.outcomes.delivered, 0)
          : 0,
        failed: worker
          ? worker.metrics.deliverySources.reduce((n, d) => n + d.outcomes.failedTotal(), 0)
          : 0,
        depth: worker ? worker.queue.depth() : 0,
      });
    }
    if (msg.type === 'stop') {
      await app.close();
      send({ type: 'stopped', accepted: await accepted() });
      process.disconnect();
    }
  });
  send({ type: 'ready', port });
}

function send(msg: FromChild): void {
  process.send?.(msg);
}

function pick(env: NodeJS.ProcessEnv, re: RegExp): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (re.test(k) && v !== undefined) out[k] = v;
  return out;
}

// --------------------------------------------------------------- parent side

class Child {
  private readonly proc: ChildProcess;
  private readonly waiters: Array<(m: FromChild) => void> = [];
  constructor(role: Role, sinkUrl: string) {
    this.proc = fork(fileURLToPath(import.meta.url), ['--serve', role, sinkUrl], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Both servers run with the heap setting the worker's image sets in
      // NODE_OPTIONS, plus BENCH_NODE_OPTIONS (e.g. --cpu-prof) when given.
      execArgv: [
        ...WORKER_NODE_OPTIONS.split(' '),
        ...(process.env.BENCH_NODE_OPTIONS?.split(' ').filter(Boolean) ?? []),
      ],
    });
    this.proc.on('message', (m: FromChild) => this.waiters.shift()?.(m));
  }
  next(): Promise<FromChild> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  tell(msg: ToChild): void {
    this.proc.send(msg);
  }
  async ask(msg: ToChild): Promise<FromChild> {
    const reply = this.next();
    this.proc.send(msg);
    return reply;
  }
}

/** Splits a serialized body at its uuid slots so a fresh body costs one join. */
function template(body: string): (count: number) => string {
  const parts = body.split(UUID_SLOT);
  return () => {
    let out = parts[0]!;
    for (let i = 1; i < parts.length; i++) out += randomUUID() + parts[i];
    return out;
  };
}

/** One report figure, in the shape the schema bench writes and packages/e2e reads. */
interface BenchFigure {
  name: string;
  value: number;
  unit: string;
  target: string | null;
  met: boolean | null;
  ceiling?: number;
  ratio?: number;
}

interface Phase {
  route: string;
  requestsPerSec: number;
  eventsPerSec: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  requests2xx: number;
}

async function cannon(
  port: number,
  path: string,
  body: () => string,
  seconds: number,
): Promise<Phase> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${path}`,
    connections: CONNECTIONS,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-telemetry-key': KEY },
    requests: [{ setupRequest: (req) => ({ ...req, body: body() }) }],
  });
  const perRequest = path === ROUTES.batch ? BATCH_SIZE : 1;
  const ok = result['2xx'];
  return {
    route: path,
    requestsPerSec: Math.round(ok / seconds),
    eventsPerSec: Math.round((ok * perRequest) / seconds),
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    requests2xx: ok,
  };
}

/** Overload phases, one per budget, in the figures' shape. */
async function overload(seconds: number): Promise<{
  phases: OverloadResult[];
  figures: BenchFigure[];
}> {
  const sink = await startFakeSink({ maxEvents: 1000 });
  const phases: OverloadResult[] = [];
  for (const budget of OVERLOAD_BUDGETS) {
    console.log(
      `overload: MEMORY_LIMIT_MIB=${budget}, ${OVERLOAD_FACTOR}x what the slowed sink takes, ${seconds} s`,
    );
    const r = await overloadPhase(
      sink,
      budget,
      seconds,
      process.env.BENCH_OVERLOAD_NODE_OPTIONS ?? WORKER_NODE_OPTIONS,
    );
    phases.push(r);
    console.log(
      `  peak RSS ${r.peakRssMiB} MiB of ${budget} (${(r.peakRssShare * 100).toFixed(1)}%, target <= ${RSS_TARGET_SHARE * 100}%: ${r.targetMet ? 'met' : 'MISSED'}), ` +
        `sampled peak ${r.sampledPeakRssMiB} MiB; offered ${r.offeredEventsPerSec} ev/s, sink took ${r.deliveredEventsPerSec} ev/s (${r.overloadFactor}x); ` +
        `shed ${r.shed503} of ${r.requests} requests with 503 (${(r.shedRate * 100).toFixed(1)}%; ${(r.shedEventRate * 100).toFixed(1)}% of events), other non-2xx ${r.otherNon2xx}, errors ${r.errors}; ` +
        `readyz 503 ${r.readyz503 ? `at ${r.readyz503.atSecond} s (${r.readyz503.reason}, RSS ${r.readyz503.rssMiB} MiB)` : 'never'}; ` +
        `survived ${r.survived ? 'yes' : 'NO'}; accepted ${r.acceptedEvents}, lost after recovery ${r.lostAfterRecovery}`,
    );
  }
  await sink.close();
  const figures: BenchFigure[] = phases.flatMap((r) => [
    {
      name: `overload ${OVERLOAD_FACTOR}x: peak RSS with MEMORY_LIMIT_MIB=${r.budgetMiB} (target: <= ${RSS_TARGET_SHARE * 100}% of the budget)`,
      value: r.peakRssMiB,
      unit: 'MiB',
      target: `<= ${Math.floor(r.budgetMiB * RSS_TARGET_SHARE)}`,
      met: r.targetMet,
      ceiling: r.budgetMiB,
      ratio: r.peakRssShare,
    },
    {
      name: `overload ${OVERLOAD_FACTOR}x with MEMORY_LIMIT_MIB=${r.budgetMiB}: offered events shed with 503 + Retry-After`,
      value: Math.round(r.shedEventRate * 1000) / 10,
      unit: '%',
      target: null,
      met: null,
    },
    {
      name: `overload ${OVERLOAD_FACTOR}x with MEMORY_LIMIT_MIB=${r.budgetMiB}: accepted events lost (worker alive, sink recovered)`,
      value: r.lostAfterRecovery,
      unit: 'events',
      target: '<= 0',
      met: r.survived && r.lostAfterRecovery === 0,
    },
  ]);
  return { phases, figures };
}

function writeResults(results: object): void {
  const dir = fileURLToPath(new URL('../../bench-results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}worker.json`, `${JSON.stringify(results, null, 2)}\n`);
}

async function main(): Promise<void> {
  const quick = QUICK;
  const seconds = Number(process.env.BENCH_DURATION ?? (quick ? 3 : 10));
  const overloadSeconds = Number(process.env.BENCH_OVERLOAD_DURATION ?? (quick ? 12 : 30));
  if (OVERLOAD_ONLY) {
    const o = await overload(overloadSeconds);
    writeResults({
      when: new Date().toISOString(),
      quick,
      overloadOnly: true,
      overload: o.phases,
      figures: o.figures,
    });
    return;
  }
  const sink = await startFakeSink({ maxEvents: 1000 });

  const single = template(JSON.stringify({ ...CANONICAL_FINISHED_EXAMPLE, uuid: UUID_SLOT }));
  const oneItem = JSON.stringify({ event: { ...CANONICAL_FINISHED_EXAMPLE, uuid: UUID_SLOT } });
  const batch = template(`{"events":[${new Array(BATCH_SIZE).fill(oneItem).join(',')}]}`);

  console.log(
    `worker bench${quick ? ' (quick)' : ''}: ${CONNECTIONS} connections, ${seconds} s per phase`,
  );
  const bare = new Child('bare', sink.url);
  const bareReady = await bare.next();
  if (bareReady.type !== 'ready') throw new Error('bare server failed');
  // A short unmeasured run first, so JIT warm-up is not billed to either server.
  await cannon(bareReady.port, ROUTES.ingest, () => single(1), WARMUP_SECONDS);
  bare.tell({ type: 'cpu-start' });
  const bareSingle = await cannon(bareReady.port, ROUTES.ingest, () => single(1), seconds);
  const bareCpu = await bare.ask({ type: 'cpu-stop' });
  await cannon(bareReady.port, ROUTES.batch, () => batch(BATCH_SIZE), WARMUP_SECONDS);
  const bareBatch = await cannon(bareReady.port, ROUTES.batch, () => batch(BATCH_SIZE), seconds);
  const bareCpuPerRequest =
    bareCpu.type === 'cpu' && bareSingle.requests2xx > 0
      ? Math.round((bareCpu.micros / bareSingle.requests2xx) * 10) / 10
      : 0;
  await bare.ask({ type: 'stop' });

  const worker = new Child('worker', sink.url);
  const ready = await worker.next();
  if (ready.type !== 'ready') throw new Error('worker failed');
  const phases: Array<
    Phase & { cpuMicrosPerEvent: number; accepted: number; delivered: number; missing: number }
  > = [];
  await cannon(ready.port, ROUTES.ingest, () => single(1), WARMUP_SECONDS);
  await cannon(ready.port, ROUTES.batch, () => batch(BATCH_SIZE), WARMUP_SECONDS);
  // Counts are cumulative and the sink is never cleared: requests autocannon
  // abandons at the end of a run can still be accepted a moment later, so
  // each snapshot waits for the worker to settle and the sink to catch up.
  const settle = async (): Promise<{ accepted: number; micros: number; delivered: number }> => {
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const cpu = await worker.ask({ type: 'cpu-stop' });
    if (cpu.type !== 'cpu') throw new Error('no cpu figure');
    const deadline = Date.now() + 60_000;
    while (sink.stats().posthog.events < cpu.accepted && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const delivered = sink.stats().posthog.events;
    if (delivered < cpu.accepted) {
      console.log(
        `  undelivered: worker ${JSON.stringify(cpu)}, sink ${JSON.stringify(sink.stats())}`,
      );
    }
    return { accepted: cpu.accepted, micros: cpu.micros, delivered };
  };
  let before = await settle();
  for (const [path, body] of [
    [ROUTES.ingest, () => single(1)],
    [ROUTES.batch, () => batch(BATCH_SIZE)],
  ] as const) {
    worker.tell({ type: 'cpu-start' });
    const phase = await cannon(ready.port, path, body, seconds);
    const after = await settle();
    const accepted = after.accepted - before.accepted;
    phases.push({
      ...phase,
      accepted,
      delivered: after.delivered - before.delivered,
      // Cumulative: every event the worker ever accepted, minus what reached the sink.
      missing: Math.max(0, after.accepted - after.delivered),
      // CPU includes the settle pause, i.e. forwarding the phase's tail.
      cpuMicrosPerEvent: accepted > 0 ? Math.round((after.micros / accepted) * 10) / 10 : 0,
    });
    before = after;
  }
  await worker.ask({ type: 'stop' });

  // The batch route once more, without forwarding: where the limit is.
  const intake = new Child('intake', sink.url);
  const intakeReady = await intake.next();
  if (intakeReady.type !== 'ready') throw new Error('intake-only worker failed');
  await cannon(intakeReady.port, ROUTES.batch, () => batch(BATCH_SIZE), WARMUP_SECONDS);
  const intakeBatch = await cannon(
    intakeReady.port,
    ROUTES.batch,
    () => batch(BATCH_SIZE),
    seconds,
  );
  await intake.ask({ type: 'stop' });
  await sink.close();
  const overloaded = await overload(overloadSeconds);

  const [ingest, batched] = phases as [(typeof phases)[0], (typeof phases)[0]];
  const ratio = ingest.requestsPerSec / Math.max(1, bareSingle.requestsPerSec);
  const singleTarget = Math.ceil(bareSingle.requestsPerSec * TARGET_RATIO_OF_BARE);
  const missing = ingest.missing + batched.missing;
  const figures: BenchFigure[] = [
    {
      name: `single-event ${ROUTES.ingest} rate (target: >= 50% of bare Fastify, same run)`,
      value: ingest.requestsPerSec,
      unit: 'req/s',
      target: `>= ${singleTarget}`,
      met: ratio >= TARGET_RATIO_OF_BARE,
      ceiling: bareSingle.requestsPerSec,
      ratio: Math.round(ratio * 1000) / 1000,
    },
    {
      name: `batch ${ROUTES.batch} throughput (${BATCH_SIZE} events/request)`,
      value: batched.eventsPerSec,
      unit: 'events/s',
      target: `>= ${TARGET_BATCH_EVENTS_PER_S}`,
      met: batched.eventsPerSec >= TARGET_BATCH_EVENTS_PER_S,
    },
    {
      name: 'accepted events missing at sink',
      value: missing,
      unit: 'events',
      target: '<= 0',
      met: missing === 0,
    },
    {
      name: `bare Fastify ${ROUTES.batch} parse-and-reply rate (ceiling)`,
      value: bareBatch.eventsPerSec,
      unit: 'events/s',
      target: null,
      met: null,
      ratio: Math.round((batched.eventsPerSec / Math.max(1, bareBatch.eventsPerSec)) * 1000) / 1000,
    },
    {
      name: `${ROUTES.batch} rate with forwarding disabled (validation, normalization, dedupe only)`,
      value: intakeBatch.eventsPerSec,
      unit: 'events/s',
      target: null,
      met: null,
    },
    {
      name: 'bare Fastify single-event rate (ceiling)',
      value: bareSingle.requestsPerSec,
      unit: 'req/s',
      target: null,
      met: null,
    },
    ...overloaded.figures,
    ...phases.flatMap((p) => [
      { name: `${p.route} p99 latency`, value: p.p99Ms, unit: 'ms', target: null, met: null },
      {
        name: `${p.route} worker CPU per event`,
        value: p.cpuMicrosPerEvent,
        unit: 'µs/event',
        target: null,
        met: null,
      },
    ]),
  ];
  const results = {
    when: new Date().toISOString(),
    quick,
    seconds,
    connections: CONNECTIONS,
    bareFastify: {
      requestsPerSec: bareSingle.requestsPerSec,
      p99Ms: bareSingle.p99Ms,
      cpuMicrosPerRequest: bareCpuPerRequest,
      batchEventsPerSec: bareBatch.eventsPerSec,
      batchP99Ms: bareBatch.p99Ms,
    },
    intakeOnlyBatch: { eventsPerSec: intakeBatch.eventsPerSec, p99Ms: intakeBatch.p99Ms },
    ingest,
    batch: batched,
    singleVsBare: Math.round(ratio * 1000) / 1000,
    overload: overloaded.phases,
    targets: {
      peakRssWithinBudgetShare: overloaded.phases.every((p) => p.targetMet),
      singleAtLeastHalfOfBare: ratio >= 0.5,
      batchAtLeast100kEventsPerSec: batched.eventsPerSec >= 100_000,
      zeroMissing: ingest.missing === 0 && batched.missing === 0,
    },
    figures,
  };
  const row = (name: string, p: (typeof phases)[0]) =>
    `${name.padEnd(10)} ${String(p.eventsPerSec).padStart(8)} ev/s  p99 ${String(p.p99Ms).padStart(4)} ms  ` +
    `cpu ${String(p.cpuMicrosPerEvent).padStart(5)} µs/ev  accepted ${p.accepted}  delivered ${p.delivered}  ` +
    `missing ${p.missing}  non-2xx ${p.non2xx}  errors ${p.errors}`;
  console.log(
    `bare       ${String(bareSingle.requestsPerSec).padStart(8)} req/s p99 ${String(bareSingle.p99Ms).padStart(4)} ms  ` +
      `cpu ${bareCpuPerRequest} µs/req`,
  );
  console.log(
    `bare batch ${String(bareBatch.eventsPerSec).padStart(8)} ev/s  p99 ${String(bareBatch.p99Ms).padStart(4)} ms  (JSON parse and reply only)`,
  );
  console.log(row('/ingest', ingest));
  console.log(row('/v1/batch', batched));
  console.log(
    `intake     ${String(intakeBatch.eventsPerSec).padStart(8)} ev/s  p99 ${String(intakeBatch.p99Ms).padStart(4)} ms  (/v1/batch with forwarding disabled)`,
  );
  console.log(`single-event rate vs bare Fastify: ${(ratio * 100).toFixed(1)}% (target >= 50%)`);
  console.log(
    `batch route: ${batched.eventsPerSec} events/s (target >= 100000), ` +
      `${((batched.eventsPerSec / Math.max(1, bareBatch.eventsPerSec)) * 100).toFixed(1)}% of bare Fastify's parse-and-reply`,
  );
  console.log(`sink received every accepted event: ${results.targets.zeroMissing ? 'yes' : 'NO'}`);
  writeResults(results);
}

const serveAt = process.argv.indexOf('--serve');
if (serveAt >= 0) {
  void serve(process.argv[serveAt + 1] as Role, process.argv[serveAt + 2] ?? '');
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
