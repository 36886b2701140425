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

/** `/users=users,/orders=orders`, repeatable. */
export function routes(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const parsed = { ...previous };
  for (const entry of list(value)) {
    const match = /^(\/[^=]*)=(.+)$/.exec(entry);
    if (!match) throw new InvalidArgumentError(`"${entry}" is not a route: use /prefix=service, e.g. /users=users`);
    parsed[match[1]!] = match[2]!;
  }
  return parsed;
}
