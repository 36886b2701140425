/**
 * Makes `process.nextTick` hot before the service loads its modules. Node 20 builds every
 * queued tick as an object literal with symbol keys, and V8 learns the literal's shapes
 * from the calls it sees before optimizing it. While a service starts (hundreds of modules,
 * many garbage collections) nextTick is called only now and then, the shapes it built last
 * are collected in between, and the three inline caches of that literal saw so many that
 * they went megamorphic: from then on, for the life of the process, each tick defined its
 * fields through the runtime. Several ticks run per HTTP request (node:http's streams), so
 * that cost every request ~5 µs of CPU: 30% more than bare Fastify spends on a whole
 * `GET /healthz`, in the same process with none of our code on the route (BENCHMARKS.md,
 * "The nextTick warm-up"). Called in a tight loop first, nextTick is optimized while its
 * caches see one shape, and stays that way. The ticks queued here run, and do nothing, as
 * soon as main.ts yields.
 */
export function warmUpNextTick(calls = 20_000): void {
  const nothing = () => {};
  for (let call = 0; call < calls; call += 1) process.nextTick(nothing);
}
