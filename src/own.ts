/**
 * A record's own entry for a user's key, or undefined: "constructor", "toString" and
 * "__proto__" are names like any other, not a way into Object.prototype.
 */
export function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
