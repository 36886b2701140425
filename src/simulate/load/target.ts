import net from 'node:net';
import { UserError } from '../../errors.js';

/**
 * Load goes to this machine unless the user opts in: the check happens on the URL alone,
 * before any lookup or socket, so a refused target never sees a packet.
 */
export function checkTarget(url: URL, allowRemote: boolean, protocols: readonly string[] = ['http:', 'https:']): void {
  if (!protocols.includes(url.protocol)) {
    throw new UserError(`${url.href} is not an ${protocols.map((protocol) => protocol.slice(0, -1)).join('/')} URL`);
  }
  if (allowRemote || isLoopback(url.hostname)) return;
  throw new UserError(
    `${url.host} is not on this machine: load goes to loopback (127.0.0.0/8, ::1, localhost) unless you pass --allow-remote`,
  );
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  if (net.isIPv6(host)) return host === '::1' || /^::ffff:127\./.test(host);
  return false;
}
