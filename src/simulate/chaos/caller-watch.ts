import type { Runtime } from '../../runtime/runtime.js';

const SAMPLE_MS = 100;

/** One reading of an instance's /metrics for the calls to one upstream. */
interface Reading {
  at: number;
  /** The breaker's gauge: 0 closed, 1 half-open, 2 open. */
  state: number;
  /** Calls made to the upstream so far (each counted once it ended, a refused one too). */
  calls: number;
  retries: number;
  /** Times the breaker opened so far (a trial that failed opens it again). */
  opens: number;
}

/** What became of the caller's breakers once the dependency was back. */
export interface Recovery {
  /** From `since` until the last breaker that was open had closed; undefined when none did. */
  closedAfterMs: number | undefined;
  /** Instances still open at the end though calls reached them after their openFor was
   * over: each such call ran a half-open trial that failed. */
  stuck: string[];
  /** Instances open at the end whose trial had not run since the dependency was back (no
   * call reached them once their openFor was over): they half-open at their next call. */
  untried: string[];
}

export type CallerWatch = Awaited<ReturnType<typeof watchCaller>>;

/**
 * The breaker and the retries of every instance of a caller towards one upstream, read
 * from each instance's own /metrics every 100 ms. Each replica has a breaker of its own,
 * and a breaker moves only when a call reaches it: cockatiel half-opens on the first call
 * after openFor. So a replica its callers stopped sending to (a gateway's pool may keep
 * every connection on the other one) shows `open` for as long as nothing calls it, and a
 * single reading through the service's balanced port would judge whichever replica that
 * connection landed on.
 */
export async function watchCaller(runtime: Runtime, caller: string, upstream: string) {
  const endpoint = await runtime.endpoint(caller);
  const metric = (text: string, name: string) => {
    const match = new RegExp(`^${name}\\{upstream="${upstream}"\\} (\\d+(?:\\.\\d+)?)$`, 'm').exec(text);
    return match ? Number(match[1]) : undefined;
  };
  const opensOf = (text: string) => Number(new RegExp(`^upstream_circuit_transitions_total\\{upstream="${upstream}",to="open"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  const read = async (url: URL): Promise<Reading | undefined> => {
    const text = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then((response) => response.text(), () => '');
    const state = metric(text, 'upstream_circuit_state');
    if (state === undefined) return undefined;
    return {
      at: performance.now(),
      state,
      calls: metric(text, 'upstream_request_duration_seconds_count') ?? 0,
      retries: metric(text, 'upstream_retries_total') ?? 0,
      opens: opensOf(text),
    };
  };
  const instances = await instanceUrls(runtime, caller, endpoint, read);
  const readings = new Map(instances.map(({ id }) => [id, [] as Reading[]]));
  let faultAt: number | undefined;
  let running = true;
  const sampling = (async () => {
    while (running) {
      const round = await Promise.all(instances.map(async ({ id, url }) => ({ id, reading: await read(url) })));
      for (const { id, reading } of round) if (reading) readings.get(id)!.push(reading);
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
    }
  })();
  const everyInstance = () => [...readings];
  return {
    instances: instances.length,
    faultAt: (at: number) => {
      faultAt = at;
    },
    /** From the fault's start until a breaker of the caller was first seen open. */
    openedAfterMs: (): number | undefined => {
      if (faultAt === undefined) return undefined;
      const opened = everyInstance().flatMap(([, list]) => list.filter((r) => r.at >= faultAt! && r.state === 2).slice(0, 1).map((r) => r.at));
      return opened.length === 0 ? undefined : Math.min(...opened) - faultAt;
    },
    recovery: (since: number, openForMs: number): Recovery => {
      const closedAt: number[] = [];
      const stuck: string[] = [];
      const untried: string[] = [];
      for (const [id, list] of everyInstance()) {
        const closed = list.find((r) => r.at >= since && r.state === 0);
        const last = list.at(-1);
        if (last === undefined || last.state === 0) {
          if (closed) closedAt.push(closed.at);
          continue;
        }
        // open at the end: stuck if a call reached it once both its openFor (since it last
        // opened) was over and the dependency was back, for that call ran a trial that failed
        let lastOpened = list[0]!.at;
        for (const [index, reading] of list.entries()) if (index > 0 && reading.opens > list[index - 1]!.opens) lastOpened = reading.at;
        const due = list.find((r) => r.at >= Math.max(lastOpened + openForMs + SAMPLE_MS, since));
        (due !== undefined && last.calls > due.calls ? stuck : untried).push(id);
      }
      return { closedAfterMs: closedAt.length === 0 ? undefined : Math.max(...closedAt) - since, stuck, untried };
    },
    /** Retries every instance made while watched. */
    retries: () => everyInstance().reduce((sum, [, list]) => sum + (list.length < 2 ? 0 : list.at(-1)!.retries - list[0]!.retries), 0),
    stop: async () => {
      running = false;
      await sampling;
    },
  };
}

/** Each instance's /metrics, where it answers (the process runtime's instance ports, compose's
 * published ones); the service's own port when none does. */
async function instanceUrls(runtime: Runtime, caller: string, endpoint: URL, read: (url: URL) => Promise<Reading | undefined>) {
  const service = (await runtime.status()).services.find((s) => s.name === caller);
  const candidates = (service?.instances ?? []).map(({ id, port }) => {
    const url = new URL('/metrics', endpoint);
    url.port = String(port);
    return { id, url };
  });
  const answering = (await Promise.all(candidates.map(async (candidate) => ((await read(candidate.url)) ? [candidate] : [])))).flat();
  return answering.length > 0 ? answering : [{ id: caller, url: new URL('/metrics', endpoint) }];
}
