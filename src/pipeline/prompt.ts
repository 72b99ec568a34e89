import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../paths.js';

/**
 * The prompts `omni-ship run` gives its agents, from the package's templates/dev.md and templates/review.md:
 * `{{name}}` is replaced by the value of `name` (once, left to right: a value that holds `{{…}}` is not read again,
 * so a task's text can never pull in another field); an unknown name is left as it is.
 */
export function renderTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{\{([A-Za-z]+)\}\}/g, (all, name: string) => (Object.hasOwn(values, name) ? values[name]! : all));
}

/** What a dev prompt tells the agent about its task. */
export interface DevPromptInput {
  taskId: string;
  title: string | null;
  description: string | null;
  branch: string;
  baseBranch: string;
  workspace: string;
  /** the patchset the agent makes: 1 for the first commit, n + 1 to revise patchset n */
  patchset: number;
  trailer: string;
  /** why the previous patchset was rejected (a failed verify, land or review), or null for a first attempt */
  feedback: string | null;
}

/** The dev agent's prompt (templates/dev.md). */
export function devPrompt(input: DevPromptInput, template = readTemplate('dev.md')): string {
  const feedback = input.feedback
    ? `## The previous patchset was rejected\n\n${input.feedback.trim()}\n\nRevise the commit (amend it) so that this is fixed.`
    : '';
  return tidy(
    renderTemplate(template, { ...taskValues(input), trailer: input.trailer, feedback }),
  );
}

/** What a review prompt names. */
export interface ReviewPromptInput {
  taskId: string;
  title: string | null;
  description: string | null;
  commit: string;
  patchset: number;
  branch: string;
  baseBranch: string;
  workspace: string;
}

/** The reviewer agent's prompt (templates/review.md). */
export function reviewPrompt(input: ReviewPromptInput, template = readTemplate('review.md')): string {
  return tidy(
    renderTemplate(template, { ...taskValues(input), commit: input.commit }),
  );
}

/** The values both prompts name: the task, its text, where it is worked on, the patchset. */
function taskValues(input: Omit<ReviewPromptInput, 'commit'>): Record<string, string> {
  return {
    taskId: input.taskId,
    title: input.title ?? '(no title)',
    description: input.description?.trim() || '(no description: the title is the task)',
    branch: input.branch,
    baseBranch: input.baseBranch,
    workspace: input.workspace,
    patchset: String(input.patchset),
  };
}

/** A template of the package (templates/<name>). */
export function readTemplate(name: string): string {
  return fs.readFileSync(path.join(packageRoot, 'templates', name), 'utf8');
}

/** No run of blank lines longer than one, one newline at the end. */
function tidy(text: string): string {
  return `${text.replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}
