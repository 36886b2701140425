/** Prompts only where someone can answer: a TTY on stdin and no --yes. */
export function canPrompt(yes: boolean | undefined): boolean {
  return !yes && process.stdin.isTTY === true && process.env.CI === undefined;
}
