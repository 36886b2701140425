import { InvalidArgumentError, Option } from 'commander';
import { HTTP_METHODS } from '../simulate/load/methods.js';
import { parseSlo } from '../simulate/load/slo.js';

/** Commander argument parsers: a bad value is a usage error (exit 2) naming the flag. */

export function wholeNumber(min: number, max: number) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^\d+$/.test(value) || number < min || number > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return number;
  };
}

/** Repeatable and comma-separated: `--depends-on a,b --depends-on c`. */
export function list(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((item) => item.trim()).filter(Boolean)];
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `10s`, `500ms`, `2m`, `1h`; a bare number is seconds. Returns milliseconds. */
export function duration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!match || Number(match[1]) <= 0) throw new InvalidArgumentError('expected a duration such as 30s, 500ms or 2m');
  return Number(match[1]) * UNIT_MS[match[2] ?? 's']!;
}

/**
 * A `<time>` option with a default, shown in --help as it would be typed ("30s"): shown
 * parsed, it read "default: 30000", which the flag itself takes as 30,000 seconds.
 */
export function timeOption(flags: string, description: string, fallback: string): Option {
  return new Option(flags, description).argParser(duration).default(duration(fallback), fallback);
}

/** A number above 0 and at most `max`. */
export function positiveNumber(max: number) {
  return (value: string): number => {
    const number = Number(value);
    if (!(number > 0 && number <= max)) throw new InvalidArgumentError(`expected a number above 0 and at most ${max}`);
    return number;
  };
}

/** `Name: value`, repeatable. */
export function header(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const match = /^([^:\s]+)\s*:\s*(.*)$/.exec(value);
  if (!match) throw new InvalidArgumentError(`"${value}" is not a header: use "Name: value"`);
  return { ...previous, [match[1]!.toLowerCase()]: match[2]! };
}

/** `--method`: one the load generator can send, in any case. */
export function httpMethod(value: string): string {
  const method = value.toUpperCase();
  if (!(HTTP_METHODS as readonly string[]).includes(method)) throw new InvalidArgumentError(`expected one of ${HTTP_METHODS.join(', ')}`);
  return method;
}

/** `--path`: a path (and query) on the target, never a way to another host. */
export function requestPath(value: string): string {
  const base = 'http://127.0.0.1';
  if (!value.startsWith('/') || value.startsWith('//') || !URL.canParse(value, base) || new URL(value, base).origin !== base) {
    throw new InvalidArgumentError('expected a path starting with "/", e.g. /orders/items');
  }
  return value;
}

/** `--target`: an http(s) URL (whether it may leave this machine is --allow-remote's call). */
export function httpUrl(value: string): string {
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
    throw new InvalidArgumentError('expected an http(s) URL, e.g. http://127.0.0.1:8080/orders');
  }
  return value;
}

/** `--slo`, repeatable: each checked as it is read, before anything runs. */
export function slo(value: string, previous: string[] = []): string[] {
  parseSlo(value);
  return [...previous, value];
}

/** A moment: a duration ago (`5m`, `30s`) or a date and time (`2026-12-06T14:00:00Z`). Returns epoch ms. */
export function pointInTime(value: string): number {
  const ago = /^\d+(?:\.\d+)?(ms|s|m|h)?$/.test(value.trim()) ? duration(value) : undefined;
  const time = ago === undefined ? Date.parse(value) : Date.now() - ago;
  if (Number.isNaN(time)) throw new InvalidArgumentError('expected a duration ago such as 5m, or a time such as 2026-12-06T14:00:00Z');
  return time;
}
