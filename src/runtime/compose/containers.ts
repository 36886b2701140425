import type { Exec } from '../exec.js';
import type { InstanceState, InstanceStatus } from '../runtime.js';

/** What `docker inspect` says of a container, the part a compose run needs. */
export interface Container {
  id: string;
  /** Its name without the leading slash: the instance id users see and type. */
  name: string;
  service: string;
  number: number;
  pid: number;
  status: string;
  health: string | undefined;
  restarts: number;
  /** Published host port of each container port ("3002/tcp" → 49153). */
  published: Map<string, number>;
  /** Each network it is on, with the aliases it answers to there. */
  networks: Map<string, string[]>;
  /** Its addresses on those networks. */
  addresses: string[];
}

interface Inspected {
  Id: string;
  Name: string;
  RestartCount: number;
  State: { Status: string; Pid: number; Health?: { Status: string } };
  Config: { Labels: Record<string, string> };
  NetworkSettings: {
    Ports: Record<string, { HostIp: string; HostPort: string }[] | null> | null;
    Networks: Record<string, { Aliases: string[] | null; IPAddress: string }> | null;
  };
}

export const PROJECT_LABEL = 'com.docker.compose.project';

/** The project's containers (not one-off `run` ones), by service and number. */
export async function projectContainers(exec: Exec, docker: string, project: string): Promise<Container[]> {
  const { stdout } = await exec(docker, ['ps', '-aq', '--filter', `label=${PROJECT_LABEL}=${project}`]);
  const ids = stdout.split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  // a container can go between `ps` and `inspect` (compose replacing it): ask again
  const inspected = await exec(docker, ['inspect', ...ids]).catch(() => undefined);
  if (!inspected) return projectContainers(exec, docker, project);
  return (JSON.parse(inspected.stdout) as Inspected[])
    .filter((c) => c.Config.Labels['com.docker.compose.oneoff'] !== 'True')
    .map((c) => ({
      id: c.Id,
      name: c.Name.replace(/^\//, ''),
      service: c.Config.Labels['com.docker.compose.service'] ?? '',
      number: Number(c.Config.Labels['com.docker.compose.container-number'] ?? 0),
      pid: c.State.Pid,
      status: c.State.Status,
      health: c.State.Health?.Status,
      restarts: c.RestartCount,
      published: new Map(
        Object.entries(c.NetworkSettings.Ports ?? {}).flatMap(([port, bindings]) => (bindings?.[0] ? [[port, Number(bindings[0].HostPort)] as const] : [])),
      ),
      networks: new Map(Object.entries(c.NetworkSettings.Networks ?? {}).map(([network, settings]) => [network, settings.Aliases ?? []])),
      addresses: Object.values(c.NetworkSettings.Networks ?? {}).flatMap((settings) => (settings.IPAddress ? [settings.IPAddress] : [])),
    }))
    .sort((a, b) => a.service.localeCompare(b.service) || a.number - b.number);
}

const STATES: Record<string, InstanceState> = {
  created: 'starting',
  running: 'running',
  paused: 'paused',
  restarting: 'backoff',
  removing: 'stopping',
  exited: 'exited',
  dead: 'exited',
};

/** A container as an instance: the same shape the process runtime reports. */
export function instanceOf(container: Container, port: number): InstanceStatus {
  const running = container.status === 'running';
  return {
    id: container.name,
    pid: running || container.status === 'paused' ? container.pid : null,
    port: container.published.get(`${port}/tcp`) ?? port,
    state: running && container.health === 'starting' ? 'starting' : (STATES[container.status] ?? 'exited'),
    // a container without a healthcheck is healthy once it runs
    healthy: running && (container.health === undefined || container.health === 'healthy'),
    restarts: container.restarts,
  };
}
