import { syncCommand } from './commands/sync.js';
import { print, report } from './report.js';

/**
 * `sync` run from a plain command line (src/main.ts): no command tree, the same output, errors and exit codes. A
 * module of its own so that the bundle (scripts/bundle-vendor.mjs) keeps it, and the errors it reports, beside the
 * rest of the commands rather than in the entry file.
 */
export async function syncMain(plain: { json: boolean; switches: Set<string>; argument?: string }): Promise<void> {
  try {
    print(plain.json, await syncCommand({ cwd: process.cwd(), json: plain.json, remote: plain.argument, dryRun: plain.switches.has('--dry-run') }));
  } catch (error) {
    process.exitCode = report(error);
  }
}
