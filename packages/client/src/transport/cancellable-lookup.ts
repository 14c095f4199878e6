import { Resolver, lookup as systemLookup } from 'node:dns';
import { isIP } from 'node:net';

type LookupAddress = { address: string; family: number };
type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;
type LookupOptions = { family?: number | string; all?: boolean };

/** A `lookup` for net/dgram that can be abandoned, plus the switch that abandons it. */
export interface CancellableLookup {
  lookup: (
    hostname: string,
    options: LookupOptions | number | LookupCallback,
    callback?: LookupCallback,
  ) => void;
  cancel(): void;
}

/** Per-query DNS timeout: an unanswered lookup must not outlive a host's exit by much. */
export const DNS_TIMEOUT_MS = 1000;

/**
 * Name resolution that cannot hold a host process open. The system resolver
 * (`dns.lookup`, getaddrinfo on the libuv thread pool) keeps the event loop
 * alive until it answers and cannot be cancelled, so a slow or dead DNS
 * server would delay the host's exit by seconds. c-ares queries time out after
 * {@link DNS_TIMEOUT_MS} and are cancelled at the drain deadline. Names DNS
 * does not know (e.g. from /etc/hosts) fall back to the system resolver.
 */
export function createCancellableLookup(servers?: string[]): CancellableLookup {
  const resolver = new Resolver({ timeout: DNS_TIMEOUT_MS, tries: 1 });
  if (servers && servers.length > 0) resolver.setServers(servers);

  const lookup: CancellableLookup['lookup'] = (hostname, optionsOrCallback, maybeCallback) => {
    const callback = (
      typeof optionsOrCallback === 'function' ? optionsOrCallback : maybeCallback
    ) as LookupCallback;
    const options: LookupOptions =
      typeof optionsOrCallback === 'object'
        ? optionsOrCallback
        : { family: typeof optionsOrCallback === 'number' ? optionsOrCallback : 0 };
    const family =
      options.family === 'IPv6' || options.family === 6
        ? 6
        : options.family === 'IPv4' || options.family === 4
          ? 4
          : 0;
    const answer = (addresses: LookupAddress[]) => {
      const first = addresses[0];
      if (!first)
        return callback(
          Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }),
          '',
        );
      if (options.all) callback(null, addresses);
      else callback(null, first.address, first.family);
    };
    const ipFamily = isIP(hostname);
    if (ipFamily) return answer([{ address: hostname, family: ipFamily }]);
    if (hostname === 'localhost')
      return answer([
        { address: family === 6 ? '::1' : '127.0.0.1', family: family === 6 ? 6 : 4 },
      ]);

    const viaSystem = () =>
      systemLookup(hostname, { family, all: true }, (err, addresses) => {
        if (err) callback(err, '');
        else answer(addresses);
      });
    const resolve6 = () =>
      resolver.resolve6(hostname, (err, v6) => {
        if (!err && v6.length > 0) return answer(v6.map((address) => ({ address, family: 6 })));
        if (err && (err.code === 'ENOTFOUND' || err.code === 'ENODATA')) return viaSystem();
        callback(
          err ?? Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }),
          '',
        );
      });
    if (family === 6) return resolve6();
    resolver.resolve4(hostname, (err, v4) => {
      if (!err && v4.length > 0) return answer(v4.map((address) => ({ address, family: 4 })));
      if (family === 4) {
        if (err && (err.code === 'ENOTFOUND' || err.code === 'ENODATA')) return viaSystem();
        return callback(
          err ?? Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }),
          '',
        );
      }
      if (err && err.code !== 'ENOTFOUND' && err.code !== 'ENODATA') return callback(err, '');
      resolve6();
    });
  };

  return { lookup, cancel: () => resolver.cancel() };
}
