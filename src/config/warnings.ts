import path from 'node:path';
import { gitRun } from '../git/exec.js';
import type { LoadedConfig } from './defaults.js';
import { ignoredConfigFiles } from './files.js';

/** Something about the configuration the user should know, though omni-ship can work with it. */
export interface ConfigWarning {
  kind: 'ignored-config' | 'missing-base-branch';
  message: string;
  hint: string;
  /** ignored-config: the file that is not read */
  file?: string;
  /** missing-base-branch: the branch, and the refs looked for */
  branch?: string;
  looked?: string[];
}

/** One warning per config file between `cwd` and the repository root `root`: never read, since the config is repository-wide. */
export function ignoredConfigWarnings(cwd: string, root: string, rootFile: string | null): ConfigWarning[] {
  return ignoredConfigFiles(cwd, root).map((file) => {
    const target = rootFile ? `${rootFile}, the one config of this repository` : 'a config file at the top of the work tree (omni-ship init writes one)';
    const remove = path.basename(file) === 'package.json' ? 'remove its "omni-ship" key' : 'delete it';
    return {
      kind: 'ignored-config',
      file,
      message: `ignored ${file}: omni-ship reads its config at the top of the work tree only`,
      hint: `move its settings to ${target}, and ${remove}`,
    };
  });
}

/**
 * A warning when the base branch exists neither as a local branch nor as the remote's branch: most likely a typo
 * in the config, which would otherwise only show as every task looking unlanded.
 */
export function missingBaseBranch(root: string, loaded: LoadedConfig): ConfigWarning | null {
  const { baseBranch: branch, remote } = loaded.config;
  const looked = [`refs/heads/${branch}`, ...(remote ? [`refs/remotes/${remote}/${branch}`] : [])];
  // for-each-ref matches whole path components as prefixes (refs/heads/x also lists refs/heads/x/y): compare exactly
  const refs = gitRun(['for-each-ref', '--format=%(refname)', ...looked], { cwd: root }).stdout.split('\n');
  if (looked.some((ref) => refs.includes(ref))) return null;
  const source = loaded.sources.baseBranch;
  const fix = source.kind === 'file' ? `fix the name in ${source.file}` : `set baseBranch in ${loaded.file ?? 'a config file (omni-ship init writes one)'}`;
  const or = remote ? `fetch the branch (git fetch ${remote} ${branch})` : `create the branch (git branch ${branch})`;
  return {
    kind: 'missing-base-branch',
    branch,
    looked,
    message: `baseBranch '${branch}' does not exist: ${looked.length > 1 ? `found neither ${looked.join(' nor ')}` : `found no ${looked[0]}`}`,
    hint: `${fix}, or ${or}`,
  };
}
