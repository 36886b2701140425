import { writeFileAtomic } from '../../atomic-write.js';
import type { Journal } from '../chaos/experiment.js';
import type { LoadResult } from '../load/result.js';
import { renderExperimentReport, renderLoadReport } from './html.js';

export async function writeLoadReport(file: string, result: LoadResult, options: { baseline?: LoadResult; projectDir?: string } = {}): Promise<void> {
  await writeFileAtomic(file, renderLoadReport(result, options));
}

export async function writeExperimentReport(file: string, journal: Journal, options: { projectDir?: string } = {}): Promise<void> {
  await writeFileAtomic(file, renderExperimentReport(journal, options));
}
