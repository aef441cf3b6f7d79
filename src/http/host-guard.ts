import { isIP } from 'node:net';

/**
 * The names every server answers to, whatever it is bound to: a browser on
 * this machine may reach a loopback listener by any of them.
 */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

/**
 * A Host header: a name or an IPv4 address, or an IPv6 address in brackets,
 * then an optional port. Nothing else (no user info, path or space), so the
 * name compared is exactly the one the client asked for.
 */
const HOST_HEADER = /^(\[[0-9A-Fa-f:.]+\]|[^\s[\]/\\:@?#%]+)(?::\d{0,5})?$/;
/** A host name or IPv4 address as `allowedHosts` takes it: no scheme, port or path. */
const HOST_NAME = /^[^\s[\]/\\:@?#%]+$/;

/**
 * A host as the URL standard writes it: lower case, punycode, IPv4 in dotted
 * decimal, IPv6 compressed and in brackets; a final dot (the root of the DNS
 * tree, the same name) dropped. Null when it is not a host at all.
 */
export function normalHost(raw: string): string | null {
  const bracketed = isIP(raw) === 6 ? `[${raw}]` : raw;
  let host: string;
  try {
    host = new URL(`http://${bracketed}/`).hostname;
  } catch {
    return null;
  }
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/** The host a Host header names, port stripped and normalised; null when the header is missing or malformed. */
export function hostOf(header: string | undefined): string | null {
  if (header === undefined) return null;
  const m = HOST_HEADER.exec(header.trim());
  return m ? normalHost(m[1]!) : null;
}

/** Why an `allowedHosts` entry is not one, or null when it is. */
export function invalidHostEntry(entry: unknown): string | null {
  if (typeof entry !== 'string' || entry.length === 0) return 'must be a non-empty string';
  const ipv6 = isIP(entry.startsWith('[') && entry.endsWith(']') ? entry.slice(1, -1) : entry) === 6;
  if (!(ipv6 || HOST_NAME.test(entry)) || normalHost(entry) === null) return `must be a host name or an IP address without scheme, port or path, got '${entry}'`;
  return null;
}

const isIpLiteral = (host: string): boolean => isIP(host.startsWith('[') ? host.slice(1, -1) : host) !== 0;

export interface HostGuard {
  /** Whether a request with this Host header may be answered. */
  allows(header: string | undefined): boolean;
  /** What the refusal says about the names that are allowed. */
  readonly allowed: string;
}

/**
 * The DNS-rebinding guard. A page on another site can have the browser send
 * requests here by pointing its own name at this machine's address (DNS
 * rebinding); the browser then treats the answers as that site's own, so
 * the page could read the tree and metrics, or use a token the operator
 * typed. The one thing it cannot change is the Host header: it is the
 * attacker's name. So a request is answered only when it names this server:
 * the address it is bound to, the host it was asked to bind (a name the
 * operator chose), the loopback names, or a name in `extra`.
 *
 * Bound to every interface (`0.0.0.0`, `::`), the server has addresses it
 * cannot list (each interface, a NAT in front), and any IP literal is
 * allowed: rebinding needs a name to rebind. A browser that sends an IP
 * address as Host connected to that very address, so the page asking came
 * from that address, not from another site.
 */
export function hostGuard(boundAddress: string, bindHost: string, extra: readonly string[] = []): HostGuard {
  const names = new Set<string>(LOOPBACK_HOSTS);
  for (const h of [boundAddress, bindHost, ...extra]) {
    const n = normalHost(h);
    if (n !== null) names.add(n);
  }
  const anyInterface = boundAddress === '0.0.0.0' || boundAddress === '::';
  names.delete('0.0.0.0');
  names.delete('[::]');
  const list = [...names].join(', ');
  return {
    allowed: anyInterface ? `${list} or any IP address` : list,
    allows(header) {
      const host = hostOf(header);
      if (host === null) return false;
      return names.has(host) || (anyInterface && isIpLiteral(host));
    },
  };
}
