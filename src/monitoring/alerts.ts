import type { AlertStatus, MonitoringStatus } from '../runtime/runtime.js';

const ALERTS_TIMEOUT_MS = 2_000;

interface PrometheusAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  state: string;
  activeAt: string;
}

/** The alerts Prometheus holds now (pending or firing), read from its HTTP API: what
 * `status` shows. When it does not answer, says why instead of claiming there are none. */
export async function withAlerts(monitoring: MonitoringStatus): Promise<MonitoringStatus> {
  try {
    const response = await fetch(`${monitoring.prometheus}/api/v1/alerts`, { signal: AbortSignal.timeout(ALERTS_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`it answered ${response.status}`);
    const { data } = (await response.json()) as { data: { alerts: PrometheusAlert[] } };
    const alerts = data.alerts
      .filter((alert) => alert.state === 'firing' || alert.state === 'pending')
      .map(
        (alert): AlertStatus => ({
          name: alert.labels.alertname ?? '',
          ...(alert.labels.service === undefined ? {} : { service: alert.labels.service }),
          state: alert.state as AlertStatus['state'],
          since: alert.activeAt,
          ...(alert.annotations?.summary === undefined ? {} : { summary: alert.annotations.summary }),
        }),
      );
    return { ...monitoring, alerts };
  } catch (error) {
    return { ...monitoring, alertsError: `prometheus did not answer: ${(error as Error).message}` };
  }
}
