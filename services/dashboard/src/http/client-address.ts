/**
 * Which client a request comes from, for the per-client event stream limit.
 *
 * Without a proxy in front (TRUST_PROXY=0, the default) it is the socket's
 * peer, and X-Forwarded-For is ignored: any client can write that header, so
 * trusting it would let one client pose as many.
 *
 * Behind proxies, the socket's peer is the last proxy, the same for every
 * user; each proxy appends the address it received the request from to
 * X-Forwarded-For, so with N trusted proxies the client is the N-th entry
 * counted from the right, and anything left of it is whatever the client
 * sent (the same rule as Express's numeric `trust proxy` setting). Google
 * documents the header its HTTP(S) load balancers send as
 * `<unverified IP(s)>, <immediate client IP>, <global forwarding rule external IP>, <proxies running in GCP>`,
 * where only the middle two are the load balancer's own
 * (https://cloud.google.com/load-balancing/docs/https, "X-Forwarded-For
 * header"). A Cloud Run service reached on its own URL gets a header whose
 * last entry is the client's address as Cloud Run saw it (Cloud Run
 * replaces a client's header rather than appending to it, as reported in
 * https://blog.cateiru.com/entry/2024/02/19/233045): TRUST_PROXY=1 takes that
 * entry either way. Taking the first entry instead would trust the client.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** What of a request the address is read from (an IncomingMessage is one). */
export interface ClientRequestLike {
  readonly headers: IncomingHttpHeaders;
  readonly socket: { readonly remoteAddress?: string | undefined };
}

/**
 * The client's address: the socket's peer when `trustedProxies` is 0 or the
 * request carries no X-Forwarded-For, else the entry `trustedProxies` from
 * the right (the leftmost when the header has fewer entries than that).
 */
export function clientAddress(req: ClientRequestLike, trustedProxies: number): string {
  const peer = normalise(req.socket.remoteAddress ?? 'unknown');
  if (trustedProxies === 0) return peer;
  const hops = forwardedFor(req.headers['x-forwarded-for']);
  if (hops.length === 0) return peer;
  return normalise(hops[Math.max(0, hops.length - trustedProxies)] ?? peer);
}

/** The header's entries, left to right; node:http joins repeated headers with ", ". */
function forwardedFor(header: string | string[] | undefined): string[] {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

/** One spelling per address: an IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d. */
function normalise(address: string): string {
  return address.toLowerCase().replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
}
