/** A stretch of the run whose arrival rate (req/s) ramps linearly from `from` to `to`. */
export interface RateRamp {
  durationMs: number;
  from: number;
  to: number;
}

/** `constant`: evenly spaced; `poisson`: independent arrivals at the same mean rate. */
export type ArrivalProcess = 'constant' | 'poisson';

export const ARRIVAL_PROCESSES: readonly ArrivalProcess[] = ['constant', 'poisson'];

/**
 * The intended send times (ms since the start) of an open-model run, in order. The schedule
 * follows the integral of the rate, N(t) = ∫ rate: the k-th request is due when N(t) reaches
 * k − ½ (constant), or the k-th point of a unit-rate Poisson process (poisson) — so a ramp's
 * count by any moment is its integral, whatever the step, and a constant rate R over D
 * seconds sends R·D requests, spaced 1/R apart.
 */
export function* arrivalTimes(ramps: RateRamp[], process: ArrivalProcess = 'constant', amount = Infinity): Generator<number> {
  const next = process === 'poisson' ? () => -Math.log(1 - Math.random()) : () => 1;
  let due = process === 'poisson' ? next() : 0.5;
  let sent = 0;
  let startMs = 0;
  let countBefore = 0;
  for (const ramp of ramps) {
    // per ms: rate(t) = b + 2a·t, so N(t) = b·t + a·t² within the ramp
    const b = ramp.from / 1000;
    const a = (ramp.to - ramp.from) / 1000 / (2 * ramp.durationMs);
    const total = Number.isFinite(ramp.durationMs) ? b * ramp.durationMs + a * ramp.durationMs ** 2 : Infinity;
    while (sent < amount && due - countBefore <= total) {
      const m = due - countBefore;
      // the root of a·t² + b·t − m = 0 in a form that holds as a → 0 and for a falling ramp
      const t = (2 * m) / (b + Math.sqrt(Math.max(0, b * b + 4 * a * m)));
      yield startMs + t;
      sent += 1;
      due += next();
    }
    startMs += ramp.durationMs;
    countBefore += total;
  }
}
