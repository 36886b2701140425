import path from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

/**
 * Names every test that passed only on its retry (vitest.config.ts allows one), with what
 * its failed try said: a flake must show in CI's output, not hide behind the retry that let
 * the run pass.
 */
export default class FlakyReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const flaky = testModules.flatMap((module) => [...module.children.allTests()].filter((test) => test.diagnostic()?.flaky));
    if (flaky.length === 0) return;
    const lines = flaky.map((test) => {
      const said = firstAndLast(test.result().errors?.[0]?.message);
      return `  ${path.relative(process.cwd(), test.module.moduleId)} > ${test.fullName}\n    first try: ${said}`;
    });
    process.stdout.write(`\nPassed only on a retry (${flaky.length}): flaky, to be looked at\n${lines.join('\n')}\n`);
  }
}

/** A failure's first line, and its last when there are more: an assertion given a message
 * of its own (a process's stderr, say) starts with that message, and says what it expected
 * only at the end. */
function firstAndLast(message: string | undefined): string {
  const lines = (message ?? '').split('\n').map((line) => line.trim()).filter(Boolean);
  if (lines.length === 0) return 'no error kept';
  return lines.length === 1 ? lines[0]! : `${lines[0]} … ${lines.at(-1)}`;
}
