import { syncCommand } from './commands/sync.js';
import { print, report } from './report.js';

/**
 * `sync` run from a plain command line (src/main.ts): no command tree, the same output, errors and exit codes. The
 * bundle's entry file holds it (scripts/bundle-vendor.mjs); tsc's modules load it only for a sync.
 */
export async function syncMain(plain: { json: boolean; switches: Set<string>; argument?: string }): Promise<void> {
  try {
    print(plain.json, await syncCommand({ cwd: process.cwd(), json: plain.json, remote: plain.argument, dryRun: plain.switches.has('--dry-run') }));
  } catch (error) {
    process.exitCode = report(error);
  }
}
