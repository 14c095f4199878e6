// autocannon ships no types and @types/autocannon is not a dependency; this
// covers the part of its API the bench uses.
declare module 'autocannon' {
  interface Request {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string;
  }
  interface Options {
    url: string;
    connections?: number;
    duration?: number;
    /** Requests per second across all connections (paced load). */
    overallRate?: number;
    method?: string;
    headers?: Record<string, string>;
    requests?: Array<{ setupRequest?: (req: Request) => Request }>;
  }
  interface Histogram {
    average: number;
    p99: number;
  }
  interface Result {
    '2xx': number;
    non2xx: number;
    errors: number;
    timeouts: number;
    latency: Histogram;
    requests: Histogram;
    statusCodeStats?: Record<string, { count: number }>;
  }
  function autocannon(options: Options): Promise<Result>;
  export default autocannon;
}
