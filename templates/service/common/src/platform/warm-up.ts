/**
 * Makes `process.nextTick` hot before the service loads its modules. Node 20 builds each
 * queued tick as an object literal with symbol keys; left cold while a service starts
 * (hundreds of modules loaded, many garbage collections, a tick only now and then), V8's
 * caches for three of that literal's four fields were found megamorphic once requests
 * came, and stayed so: each tick then defined its fields through the runtime. Several
 * ticks run per HTTP request (node:http's streams), so that cost every request ~5 µs of
 * CPU, 30% of what bare Fastify spends on a whole `GET /healthz` (BENCHMARKS.md, "The
 * nextTick warm-up"). Bare Fastify with one library imported before it paid the same, and
 * nothing when the library came after it was serving. Called in a tight loop first, before
 * anything else loads, nextTick is optimized with all four caches monomorphic, and they
 * were still so after load, 15 s of idling and load again. It costs about a millisecond at
 * start; the ticks queued here run, and do nothing, as soon as main.ts first waits.
 */
export function warmUpNextTick(calls = 20_000): void {
  const nothing = () => {};
  for (let call = 0; call < calls; call += 1) process.nextTick(nothing);
}
