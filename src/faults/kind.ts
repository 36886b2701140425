import type { RuntimeName } from '../runtime/runtime.js';
import type { FaultField } from './field.js';

/** What a fault does to one request as it starts (its first bytes, nothing unanswered
 * before them on the connection). */
export type FaultAction =
  /** Sent on only after this long; later bytes of the connection wait behind it. */
  | { delayMs: number }
  /** The connection is reset (TCP RST). */
  | { reset: true }
  /** Answered by the proxy with these bytes (an HTTP response), then closed. */
  | { answer: string };

/**
 * One kind of fault (latency, errors, …), registered in ./index.ts: its parameters and
 * their bounds, its `chaos` subcommand, what it does on the way through a proxy, and where
 * it runs.
 */
export interface FaultKind<F extends { kind: string } = { kind: string }> {
  kind: F['kind'];
  /** The `chaos <kind>` subcommand's description. */
  description: string;
  /** Its parameters beyond `kind`, each with its bounds and flag. */
  fields: Record<string, FaultField>;
  /** "bytes": works on any TCP stream, infrastructure servers' included; "http": speaks
   * HTTP (a service's ports only). */
  layer: 'bytes' | 'http';
  /** Connection-wide: new connections are reset ("refuse") or swallowed ("blackhole"), and
   * so are the open ones once it begins. */
  onConnection?(fault: F): 'refuse' | 'blackhole';
  /** Per request, as it starts. */
  onRequest?(fault: F): FaultAction | undefined;
  /** How each runtime does it (the README's support matrix); absent: not supported. */
  support: Partial<Record<RuntimeName, string>>;
}
