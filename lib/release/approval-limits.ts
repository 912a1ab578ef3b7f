/**
 * The approval text of the release and hotfix pipelines quotes pipeline variables (VERSION, COMMIT,
 * CHANGE_SUMMARY, PR_URL, each pre-production SMOKE_SUMMARY and ApiUrl). CodePipeline limits every
 * action configuration value to 1000 characters
 * (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ActionDeclaration.html), and the
 * text must stay under it once the variables are substituted. So each variable's length is bounded
 * where it is produced (these constants), and the pipeline computes at synth how long
 * CHANGE_SUMMARY may be for the longest text to fit (`changeSummaryBudget`), and passes that to
 * the build. No CDK here: the build scripts and the smoke-test Lambda load this file.
 */

/** CodePipeline's limit on one action configuration value (the approval's CustomData). */
export const ACTION_CONFIGURATION_VALUE_LIMIT = 1000;
/** Longest VERSION the build exports (the version check refuses longer ones). */
export const MAX_VERSION_CHARS = 40;
/** COMMIT: a full git SHA-1 (what CodeBuild resolves for a GitHub source). */
export const MAX_COMMIT_CHARS = 40;
/** Longest pull request number the build recognises in a commit message. */
export const MAX_PR_NUMBER_DIGITS = 9;
/** Longest SMOKE_SUMMARY the smoke test exports. */
export const MAX_SMOKE_SUMMARY_CHARS = 300;
/** CHANGE_SUMMARY is never cut shorter than this; a configuration that leaves less fails at synth. */
export const MIN_CHANGE_SUMMARY_CHARS = 80;
/** ... and never longer than this (it is one line in an e-mail). */
export const MAX_CHANGE_SUMMARY_CHARS = 400;

/** `#{Namespace.NAME}` references in a configuration value. */
const VARIABLE_REFERENCE = /#\{[A-Za-z0-9@\-_]+\.([A-Za-z0-9@\-_]+)\}/g;

/**
 * The length of `text` once every variable reference is replaced by a value of its maximum length
 * (`maxima` by variable name, e.g. `VERSION`). Throws for a variable without a known maximum.
 */
export function maxSubstitutedLength(text: string, maxima: Record<string, number>): number {
  return text.replace(VARIABLE_REFERENCE, (ref, name: string) => {
    const max = maxima[name];
    if (max === undefined) throw new Error(`no maximum length is known for ${ref}`);
    return 'x'.repeat(max);
  }).length;
}

/**
 * How long CHANGE_SUMMARY may be so that every text (each quotes `#{Build.CHANGE_SUMMARY}` once)
 * stays within the limit with every other variable at its maximum; at most MAX_CHANGE_SUMMARY_CHARS.
 * Throws when that would be under MIN_CHANGE_SUMMARY_CHARS.
 */
export function changeSummaryBudget(texts: string[], maxima: Record<string, number>): number {
  const room = Math.min(
    ...texts.map((t) => {
      const refs = [...t.matchAll(VARIABLE_REFERENCE)].filter((m) => m[1] === 'CHANGE_SUMMARY').length;
      if (refs !== 1) throw new Error(`an approval text must quote CHANGE_SUMMARY exactly once (found ${refs})`);
      return ACTION_CONFIGURATION_VALUE_LIMIT - maxSubstitutedLength(t, { ...maxima, CHANGE_SUMMARY: 0 });
    }),
  );
  if (room < MIN_CHANGE_SUMMARY_CHARS) {
    throw new Error(
      `the approval text leaves ${room} characters for CHANGE_SUMMARY (at least ${MIN_CHANGE_SUMMARY_CHARS} needed) within CodePipeline's ` +
        `${ACTION_CONFIGURATION_VALUE_LIMIT}-character limit: fewer pre-production environments or shorter names`,
    );
  }
  return Math.min(room, MAX_CHANGE_SUMMARY_CHARS);
}

/** Cuts `text` to `max` characters, marking the cut with "...". */
export function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}
