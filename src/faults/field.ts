/**
 * One parameter of a fault, said once: its bounds, default, CLI flag and the sentence that
 * tells a user what it takes. The CLI's parsers, the runtimes' checks and the experiment
 * file's schema are all made from it.
 */
export type FaultField =
  | {
      type: 'number';
      /** Whole numbers only. */
      integer?: boolean;
      min: number;
      max: number;
      /** The minimum itself is out (a share above 0). */
      aboveMin?: boolean;
      default?: number;
      /** Commander's flag, e.g. "--ms <ms>". */
      flag: string;
      description: string;
      /** What it takes, for error messages: "a rate is a share between 0 and 1, e.g. 0.3". */
      expected: string;
    }
  | { type: 'choice'; choices: readonly string[]; default?: string; flag: string; description: string; expected: string };

/** Whether `value` is one the field takes. */
export function fieldAccepts(field: FaultField, value: unknown): boolean {
  if (field.type === 'choice') return typeof value === 'string' && field.choices.includes(value);
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  if (field.integer && !Number.isInteger(value)) return false;
  return (field.aboveMin ? value > field.min : value >= field.min) && value <= field.max;
}

/** A share of requests or connections: above 0, at most 1. */
export function share(example: string): FaultField {
  return {
    type: 'number',
    min: 0,
    aboveMin: true,
    max: 1,
    flag: '--rate <share>',
    description: `e.g. ${example}`,
    expected: 'a rate is a share between 0 and 1, e.g. 0.3',
  };
}

/** Milliseconds, 0 up to ten minutes. */
export function milliseconds(flag: string, description: string, fallback?: number): FaultField {
  return {
    type: 'number',
    integer: true,
    min: 0,
    max: 600_000,
    ...(fallback === undefined ? {} : { default: fallback }),
    flag,
    description,
    expected: 'latency and jitter are whole milliseconds from 0 to 600000',
  };
}
