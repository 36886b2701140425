import { InvalidArgumentError } from 'commander';

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

export function positiveNumber(value: string): number {
  const number = Number(value);
  if (!(number > 0) || !Number.isFinite(number)) throw new InvalidArgumentError('expected a number above 0');
  return number;
}

/** `Name: value`, repeatable. */
export function header(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const match = /^([^:\s]+)\s*:\s*(.*)$/.exec(value);
  if (!match) throw new InvalidArgumentError(`"${value}" is not a header: use "Name: value"`);
  return { ...previous, [match[1]!.toLowerCase()]: match[2]! };
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
