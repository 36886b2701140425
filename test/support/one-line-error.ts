import { expect } from 'vitest';
import { MAX_DETAILS } from '../../src/cli/handle-errors.js';

/** What every bad input must leave on stderr: one line, perhaps a few indented details. */
export function expectOneLineError(stderr: string, allowDetails = false): void {
  const lines = stderr.replace(/\n$/, '').split('\n');
  expect(lines[0]).toMatch(/^error: \S/);
  // control characters other than the line ends are shown escaped, never raw
  // eslint-disable-next-line no-control-regex
  expect(stderr.replaceAll('\n', '')).not.toMatch(/[\u0000-\u001f\u007f]/);
  expect(stderr).not.toMatch(/^\s+at /m);
  if (!allowDetails) expect(lines).toHaveLength(1);
  else {
    expect(lines.length).toBeLessThanOrEqual(1 + MAX_DETAILS + 1);
    for (const detail of lines.slice(1)) expect(detail).toMatch(/^ {2}\S/);
  }
}
