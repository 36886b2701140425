/**
 * Loaded into every process the supervisor starts (`node --import <this file>`): the
 * supervisor holds the other end of a pipe on fd 3, and when that pipe closes — the
 * supervisor exited or was SIGKILLed — the process shuts itself down. No orphans, without
 * relying on anyone being alive to clean up.
 */
import net from 'node:net';

const LIFELINE_FD = 3;
const HARD_EXIT_MS = 10_000;

try {
  const lifeline = new net.Socket({ fd: LIFELINE_FD, readable: true, writable: false });
  lifeline.unref();
  lifeline.on('error', () => undefined);
  lifeline.once('close', () => {
    setTimeout(() => process.exit(1), HARD_EXIT_MS).unref();
    process.kill(process.pid, 'SIGTERM');
  });
  lifeline.resume();
} catch {
  // started without a lifeline (e.g. by hand): nothing to watch
}
