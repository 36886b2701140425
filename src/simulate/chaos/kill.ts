import type { InstanceStatus, KillOptions, Runtime, SystemStatus } from '../../runtime/runtime.js';

export interface KillResult {
  killed: InstanceStatus[];
  /** From the kill until every killed instance was restarted and healthy; null if not
   * within the wait (or the restart policy does not restart). */
  recoveredInMs: number | null;
}

/** Kills instances like a crash would, then measures how long the runtime takes to heal. */
export async function killService(runtime: Runtime, service: string, options: KillOptions & { waitMs?: number } = {}): Promise<KillResult> {
  const killedAt = performance.now();
  const killed = await runtime.kill(service, options);
  const deadline = killedAt + (options.waitMs ?? 30_000);
  while (performance.now() < deadline) {
    const instances = instancesOf(await runtime.status(), service);
    const healed = killed.every((victim) => {
      const now = instances.find((instance) => instance.id === victim.id);
      return now !== undefined && now.restarts > victim.restarts && now.healthy;
    });
    if (healed) return { killed, recoveredInMs: Math.round(performance.now() - killedAt) };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { killed, recoveredInMs: null };
}

/** A service's instances, or an infrastructure server's one. */
function instancesOf(status: SystemStatus, name: string): InstanceStatus[] {
  const service = status.services.find((s) => s.name === name);
  if (service) return service.instances;
  return status.infrastructure.filter((infra) => infra.name === name).map((infra) => infra.instance);
}
