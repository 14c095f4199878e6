/**
 * Ingestion key baked into a release build. Source checkouts ship an empty
 * string; a release pipeline overwrites this one line (for example with
 * `sed` before `tsc`) so official binaries can reach the hosted collector
 * without the user setting `RUNMAT_TELEMETRY_KEY`. The key is not a secret in
 * the cryptographic sense: it only lets the collector drop traffic that did
 * not come from a RunMat build.
 */
export const EMBEDDED_INGESTION_KEY = '';
