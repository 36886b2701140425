import { writeFileAtomic } from '../../atomic-write.js';
import type { Journal } from '../chaos/experiment.js';
import type { LoadResult } from '../load/result.js';
import { renderExperimentReport, renderLoadReport } from './html.js';
import { readSavedResult } from './result-file.js';

export async function writeLoadReport(file: string, result: LoadResult, options: { baseline?: LoadResult; projectDir?: string } = {}): Promise<void> {
  await writeFileAtomic(file, renderLoadReport(result, options));
}

export async function writeExperimentReport(file: string, journal: Journal, options: { projectDir?: string } = {}): Promise<void> {
  await writeFileAtomic(file, renderExperimentReport(journal, options));
}

/** The report of a saved result: a load's, or an experiment's journal. */
export async function writeSavedReport(input: string, output: string, options: { baseline?: LoadResult; projectDir?: string } = {}): Promise<void> {
  const saved = await readSavedResult(input);
  if (saved.kind === 'experiment') return writeExperimentReport(output, saved.journal, options);
  return writeLoadReport(output, saved.result, options);
}
