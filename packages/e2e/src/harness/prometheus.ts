import { parsePrometheus, type Sample, scrapeText } from '@runmat-telemetry/test-kit/prometheus';

// Prometheus parsing lives in the shared test kit (`metric()` there is what
// tests read a metric through); the harness re-exports it for its callers.
export {
  metric,
  parsePrometheus,
  type Sample,
  scrapeMetric,
  scrapeText,
  sumMetric,
} from '@runmat-telemetry/test-kit/prometheus';

/** Fetches and parses a `/metrics` endpoint. */
export async function scrapeMetrics(url: string): Promise<Sample[]> {
  return parsePrometheus(await scrapeText(url));
}
