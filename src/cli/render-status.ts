import chalk from 'chalk';
import type { InstanceStatus, MonitoringStatus, SystemStatus } from '../runtime/runtime.js';
import type { TopicState } from '../infrastructure/kind.js';

export function formatStatus(status: SystemStatus): string {
  const lines = [`${chalk.bold(status.project)} on the ${status.runtime} runtime`];
  for (const server of status.infrastructure) {
    const { name, kind, url, instance, links } = server;
    const health = instance.healthy ? chalk.green('healthy') : chalk.red(instance.state);
    // "cache (redis)": an entry named after its kind says it once
    const label = name === kind ? name : `${name} (${kind})`;
    lines.push(`  ${chalk.bold(label.padEnd(16))} ${url.padEnd(24)} ${health}`);
    lines.push(chalk.dim(`    ${instanceLine(instance)}`));
    // where each client's URL points: the ports `chaos --from` acts on
    if (links?.length) lines.push(chalk.dim(`    used by ${links.map((link) => `${link.from} on :${new URL(link.url).port}`).join(', ')}`));
    for (const topic of server.topics ?? []) lines.push(...topicLines(topic));
    if (server.stateError) lines.push(chalk.yellow(`    cannot read what it holds: ${server.stateError}`));
  }
  for (const service of status.services) {
    const healthy = service.instances.filter((instance) => instance.healthy).length;
    const health = healthy === service.instances.length && healthy > 0 ? chalk.green : chalk.red;
    // the default (handoff) goes unsaid
    const proxy = service.frontPort === 'proxy' ? chalk.dim(' · proxy') : '';
    lines.push(`  ${chalk.bold(service.name.padEnd(16))} ${service.url.padEnd(24)} ${health(`${healthy}/${service.instances.length} healthy`)}${proxy}`);
    for (const instance of service.instances) lines.push(chalk.dim(`    ${instanceLine(instance)}`));
    // where each caller's *_URL points: the ports `chaos --from` acts on
    if (service.links?.length) lines.push(chalk.dim(`    called by ${service.links.map((link) => `${link.from} on :${new URL(link.url).port}`).join(', ')}`));
  }
  for (const queue of status.queues ?? []) {
    const where = chalk.dim(`on ${queue.infrastructure}`);
    if ('error' in queue) {
      lines.push(`  ${chalk.bold(`queue ${queue.name}`.padEnd(16))} ${where} ${chalk.red(queue.error)}`);
      continue;
    }
    const dead = queue.deadLetters > 0 ? chalk.red(`dead letters ${queue.deadLetters}`) : `dead letters 0`;
    lines.push(
      `  ${chalk.bold(`queue ${queue.name}`.padEnd(16))} backlog ${queue.waiting} · active ${queue.active} · retrying ${queue.retrying} · ` +
        `retried ${queue.retried} · stalled ${queue.stalled} · done ${queue.completed} · ${dead} ${chalk.dim(`(${queue.deadLetterQueue})`)} ${where}`,
    );
  }
  if (status.monitoring) lines.push(...monitoringLines(status.monitoring));
  return lines.join('\n');
}

/** Where Prometheus answers, and each alert it holds: firing ones first. */
function monitoringLines({ prometheus, alerts, alertsError }: MonitoringStatus): string[] {
  const lines = [`  ${chalk.bold('prometheus'.padEnd(16))} ${prometheus}`];
  if (alertsError) lines.push(chalk.yellow(`    alerts unknown: ${alertsError}`));
  else if (alerts?.length === 0) lines.push(chalk.dim('    no alerts'));
  for (const alert of [...(alerts ?? [])].sort((a, b) => (a.state === b.state ? 0 : a.state === 'firing' ? -1 : 1))) {
    const state = alert.state === 'firing' ? chalk.red('firing') : chalk.yellow('pending');
    lines.push(`    ${state} ${alert.name}${alert.service ? ` (${alert.service})` : ''} since ${alert.since}${alert.summary ? chalk.dim(` · ${alert.summary}`) : ''}`);
  }
  return lines;
}

/** "topic order-created  1200 events · 3 dead letters" and a line per group under it. */
function topicLines(topic: TopicState): string[] {
  const dead = topic.deadLetters > 0 ? chalk.red(`${topic.deadLetters} dead letters`) : '0 dead letters';
  return [
    `    topic ${topic.topic.padEnd(20)} ${topic.events} events · ${dead}`,
    ...topic.groups.map((group) =>
      chalk.dim(`      group ${group.group.padEnd(18)} backlog ${String(group.backlog).padEnd(7)} in flight ${String(group.inFlight).padEnd(5)} redeliveries ${group.redeliveries}`),
    ),
  ];
}

function instanceLine(instance: InstanceStatus): string {
  return (
    `${instance.id.padEnd(18)} pid ${String(instance.pid ?? '-').padEnd(8)} port ${String(instance.port).padEnd(6)} ${instance.state.padEnd(9)} restarts ${String(instance.restarts).padEnd(3)}` +
    (instance.connections === undefined ? '' : ` connections ${instance.connections}`)
  );
}
