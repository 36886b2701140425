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
      const said = test.result().errors?.[0]?.message.split('\n')[0] ?? 'no error kept';
      return `  ${path.relative(process.cwd(), test.module.moduleId)} > ${test.fullName}\n    first try: ${said}`;
    });
    process.stdout.write(`\nPassed only on a retry (${flaky.length}): flaky, to be looked at\n${lines.join('\n')}\n`);
  }
}
