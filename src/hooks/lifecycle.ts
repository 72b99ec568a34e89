import path from 'node:path';
import { findRepo } from '../git/repo.js';

/**
 * The lifecycle events a package manager runs while installing a package (npm, yarn and pnpm all name the running
 * one in `npm_lifecycle_event`). Not `npx`: `npx omni-ship install-hooks` (npm_lifecycle_event=npx) is a person
 * asking, and so is `npm run <their own script>`.
 */
const INSTALL_EVENTS = new Set(['preinstall', 'install', 'postinstall', 'prepublish', 'preprepare', 'prepare', 'postprepare']);

/** Why install-hooks had nothing to do under a package manager's install. */
export interface InstallSkipped {
  skipped: true;
  /** no-repository: not in a git repository; no-work-tree: a bare repository or inside a git dir; dependency: see lifecycleSkip */
  why: 'no-repository' | 'no-work-tree' | 'dependency';
  /** the lifecycle event that ran install-hooks, e.g. prepare */
  lifecycleEvent: string;
  message: string;
}

/** The install-time lifecycle event running this process, or null when a person runs install-hooks. */
export function installLifecycleEvent(env: NodeJS.ProcessEnv): string | null {
  const event = env.npm_lifecycle_event;
  return event && INSTALL_EVENTS.has(event) ? event : null;
}

/**
 * When install-hooks runs from a package's install script (`"prepare": "omni-ship install-hooks"`), the places
 * where there is nothing to install are not errors, as husky treats them: `npm install` runs in CI jobs and Docker
 * builds without `.git`, in deploy checkouts, and for dependencies. Returns why to skip, or null to install (or to
 * refuse as usual when a person runs it).
 *
 * A dependency is a package under a `node_modules` directory of the repository (npm, pnpm, yarn's unplugged
 * packages): its script must not install hooks into the repository it was installed into. INIT_CWD (where `npm`
 * was started) cannot tell that: it is the repository's root both for a dependency and for a workspace package,
 * whose hooks do belong to the repository.
 */
export function lifecycleSkip(cwd: string, env: NodeJS.ProcessEnv): InstallSkipped | null {
  const lifecycleEvent = installLifecycleEvent(env);
  if (!lifecycleEvent) return null;
  const skip = (why: InstallSkipped['why'], message: string): InstallSkipped => ({ skipped: true, why, lifecycleEvent, message });
  const repo = findRepo(cwd);
  if (!repo) return skip('no-repository', `not a git repository: ${cwd}`);
  if (repo.isBare) return skip('no-work-tree', `${repo.gitDir} is a bare repository: no work tree to install hooks for`);
  if (!repo.toplevel) return skip('no-work-tree', `${cwd} is inside the git directory: no work tree to install hooks for`);
  const pkg = env.npm_package_json ? path.dirname(env.npm_package_json) : cwd;
  for (const dir of [cwd, pkg]) {
    const rel = path.relative(repo.toplevel, dir);
    if (!rel.startsWith('..') && !path.isAbsolute(rel) && rel.split(path.sep).includes('node_modules')) {
      return skip('dependency', `${dir} is a dependency installed in ${repo.toplevel}: its install script does not install hooks there`);
    }
  }
  return null;
}
