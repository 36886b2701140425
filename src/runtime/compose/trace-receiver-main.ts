/**
 * The compose runtime's trace receiver, detached from the CLI that starts it (see
 * trace-receiver.ts): the process runtime's OTLP receiver, listening where containers reach
 * the host, until SIGTERM (`scaffold down`). argv: the span store's folder, the address,
 * the port (0: any free one). Reports `ready` with its port, or `failed`, over IPC.
 */
import { startTraceReceiver } from '../traces/receiver.js';

export type ReceiverMessage = { type: 'ready'; port: number } | { type: 'failed'; message: string };

const [dir, host, port] = process.argv.slice(2);

try {
  const receiver = await startTraceReceiver(dir!, { host: host!, port: Number(port) });
  const stop = () => void receiver.close().finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.send?.({ type: 'ready', port: Number(new URL(receiver.endpoint).port) } satisfies ReceiverMessage);
  process.disconnect?.();
} catch (error) {
  process.send?.({ type: 'failed', message: (error as Error).message } satisfies ReceiverMessage);
  process.exitCode = 1;
}
