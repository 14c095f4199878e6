import { INGESTION_KEY_HEADER } from '@runmat-telemetry/schema';
import { freshCanonicalStarted } from './fresh-events.js';
import { postJson, sendDatagrams } from './send-raw.js';
import type { Pipeline } from './start-pipeline.js';
import type { WaitForOptions } from './wait-for.js';

/**
 * A barrier instead of a sleep: sends one sentinel event over UDP and one over
 * HTTP and waits until both reach PostHog (and GA4 when it is on). Events sent earlier on those paths
 * have been processed by then, so a test can assert exact counts ("arrived
 * once", "nothing arrived") without guessing how long to wait.
 * Returns the sentinels' distinct ids so callers can leave them out of counts.
 */
export async function settle(pipeline: Pipeline, options: WaitForOptions = {}): Promise<string[]> {
  const viaUdp = freshCanonicalStarted();
  const viaHttp = freshCanonicalStarted();
  await sendDatagrams(pipeline.endpoints.udpHost, pipeline.endpoints.udpPort, [viaUdp]);
  const res = await postJson(pipeline.endpoints.httpEndpoint, pipeline.key, viaHttp);
  if (res.status !== 202) {
    throw new Error(
      `sentinel POST (${INGESTION_KEY_HEADER} set) answered ${res.status}: ${JSON.stringify(res.body)}`,
    );
  }
  await pipeline.sinkApi.waitForUuid(viaHttp.uuid, options);
  await pipeline.sinkApi.waitForUuid(viaUdp.uuid, options);
  if (pipeline.gaMeasurementId !== undefined) {
    for (const cid of [viaHttp.cid, viaUdp.cid]) {
      await pipeline.sinkApi.waitForEvents({ destination: 'ga4', distinct_id: cid }, 1, options);
    }
  }
  return [viaUdp.cid, viaHttp.cid];
}
