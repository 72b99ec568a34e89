import { print, report } from './report.js';

/**
 * The executable's entry point. `omni-ship status` with no option but `--json` and `--all` (what a prompt, an
 * editor or a loop polls) runs without the command tree: loading commander and building every command's options
 * costs ~20 ms of a run that otherwise takes ~150. Anything else (another command, an option with a value,
 * `--help`, `-C`) goes through the full parser (src/cli.ts), with the same output, errors and exit codes.
 */
export async function main(argv: string[]): Promise<void> {
  const plain = plainStatus(argv.slice(2));
  if (!plain) {
    await (await import('./cli.js')).main(argv);
    return;
  }
  try {
    // the refs are read while the command's modules load (git runs beside node); a failure here (not a repository)
    // is left to the command, which reports it as it always does
    const { readRefSnapshot } = await import('./state/ref-snapshot.js');
    const refSnapshot = readRefSnapshot(process.cwd());
    refSnapshot.catch(() => undefined);
    const { statusCommand } = await import('./commands/status.js');
    print(plain.json, await statusCommand({ cwd: process.cwd(), json: plain.json, all: plain.all, refSnapshot }));
  } catch (error) {
    process.exitCode = report(error);
  }
}

/** The switches of a `status` command line that has nothing else, or null. */
export function plainStatus(args: readonly string[]): { json: boolean; all: boolean } | null {
  if (args[0] !== 'status') return null;
  let json = false;
  let all = false;
  for (const a of args.slice(1)) {
    if (a === '--json') json = true;
    else if (a === '--all') all = true;
    else return null;
  }
  return { json, all };
}
