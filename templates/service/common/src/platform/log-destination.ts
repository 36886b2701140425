import pino from 'pino';

let stdout: pino.DestinationStream | undefined;

/**
 * Where the service's log lines go: standard output, one write for all the lines of one
 * turn of the event loop. Under load every request's access line is written in the turn
 * that answered it, so a turn's lines (one per connection served) leave in one system call
 * before the loop waits again: nothing waits on a timer, and a kill loses only the lines
 * of the turn it interrupts.
 *
 * pino's default destination (sonic-boom, asynchronous) wrote each line on its own from a
 * worker thread, encoding the string on the way, and measured the bytes already queued
 * for every line it added: with the access line on, 11% of the CPU of a request to a
 * generated service (BENCHMARKS.md, "The log destination and the request's logger"). The
 * batch goes out through pino's synchronous destination, which finishes partial writes and
 * retries a busy pipe: a log reader that falls behind slows the service down rather than
 * filling its memory. Lines still pending when the process exits are written on the way
 * out.
 */
export function logDestination(): pino.DestinationStream {
  return (stdout ??= batchedPerTurn(pino.destination({ dest: 1, sync: true })));
}

/** Hands `out` the lines of each turn of the event loop in one write, in order. */
export function batchedPerTurn(out: pino.DestinationStream): pino.DestinationStream {
  let lines: string[] = [];
  const flush = () => {
    if (lines.length === 0) return;
    const chunk = lines.join('');
    lines = [];
    out.write(chunk);
  };
  process.on('exit', flush);
  return {
    write(line: string) {
      // the first line of a turn schedules the write, after this turn's I/O callbacks
      if (lines.push(line) === 1) setImmediate(flush);
    },
  };
}
