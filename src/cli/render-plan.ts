import chalk from 'chalk';
import { createTwoFilesPatch } from 'diff';
import type { Action, PlannedFile } from '../generators/commit.js';
import type { WriteResult } from '../generators/operations.js';
import { UserError } from '../errors.js';
import type { GlobalOptions } from './global-options.js';
import type { Output } from './output.js';

const STYLE: Record<Action, (text: string) => string> = {
  create: chalk.green,
  update: chalk.yellow,
  delete: chalk.red,
  conflict: chalk.red.bold,
  keep: chalk.cyan,
  unchanged: chalk.dim,
};

/** Prints what a write did (or would do) and turns conflicts into exit code 2. */
export function reportWrite(result: WriteResult, options: GlobalOptions & { output: Output }): void {
  const { plan, applied } = result;
  const counts = countActions(plan.files);
  const shown = options.dryRun ? plan.files : plan.files.filter((file) => file.action !== 'unchanged');
  const lines = shown.map((file) => formatLine(file));
  if (options.dryRun && options.diff) {
    lines.push(...plan.files.filter((file) => DIFFED.has(file.action)).map(unifiedDiff));
  }
  const summary = Object.entries(counts)
    .filter(([, count]) => count > 0)
    .map(([action, count]) => `${count} ${action}`)
    .join(', ');
  options.output.data(
    {
      dryRun: options.dryRun,
      applied,
      summary: counts,
      files: plan.files.map(({ path, action, mode, reason }) => ({ path, action, mode, ...(reason ? { reason } : {}) })),
    },
    [...lines, `${options.dryRun ? 'plan' : applied ? 'done' : 'nothing written'}: ${summary || 'no files'}`].join('\n'),
  );
  if (plan.conflicts.length > 0) {
    const [first] = plan.conflicts;
    throw new UserError(
      `${plan.conflicts.length} file${plan.conflicts.length > 1 ? 's' : ''} changed outside scaffold (${first!.path}: ${first!.reason}); nothing was written — revert ${plan.conflicts.length > 1 ? 'them' : 'it'} or rerun with --force to overwrite`,
    );
  }
}

function formatLine(file: PlannedFile): string {
  const action = STYLE[file.action](file.action.padEnd(9));
  return `${action} ${file.path}${file.reason ? chalk.dim(` (${file.reason})`) : ''}`;
}

/** A conflict's diff shows what --force would write over the user's version. */
const DIFFED = new Set<Action>(['create', 'update', 'delete', 'conflict']);

function unifiedDiff(file: PlannedFile): string {
  const after = file.action === 'delete' ? '' : (file.after ?? '');
  return createTwoFilesPatch(`a/${file.path}`, `b/${file.path}`, file.before ?? '', after);
}

function countActions(files: PlannedFile[]): Record<Action, number> {
  const counts: Record<Action, number> = { create: 0, update: 0, delete: 0, conflict: 0, keep: 0, unchanged: 0 };
  for (const file of files) counts[file.action] += 1;
  return counts;
}
