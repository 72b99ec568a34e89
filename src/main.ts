/**
 * The executable's entry point. The commands a prompt, an editor or a loop runs over and over, given only their
 * switches (`status [--json] [--all]`, `sync [remote] [--json] [--dry-run]`), run without the command tree:
 * loading commander and building every command's options costs ~20 ms of a run that otherwise takes ~150. Anything
 * else (another command, an option with a value, `--help`, `-C`, an argument that starts with `-`) goes through
 * the full parser (src/cli.ts), with the same output, errors and exit codes.
 */
export async function main(argv: string[]): Promise<void> {
  const plain = plainCommand(argv.slice(2));
  if (!plain) {
    await (await import('./cli.js')).main(argv);
    return;
  }
  // both plain commands' whole paths are in the bundle's entry file (scripts/bundle-vendor.mjs): these imports
  // load nothing more there; print and report are imported here so that the cli path does not run them
  const { print, report } = await import('./report.js');
  try {
    if (plain.name === 'status') {
      // the refs are read while the command's modules load (under tsc's modules; in the bundle, before the status
      // modules initialise); a failure here (not a repository) is left to the command, which reports it
      const { readRefSnapshot } = await import('./state/ref-snapshot.js');
      const refSnapshot = readRefSnapshot(process.cwd());
      refSnapshot.catch(() => undefined);
      const { statusCommand } = await import('./commands/status.js');
      print(plain.json, await statusCommand({ cwd: process.cwd(), json: plain.json, all: plain.switches.has('--all'), refSnapshot }));
    } else {
      const { syncCommand } = await import('./commands/sync.js');
      print(plain.json, await syncCommand({ cwd: process.cwd(), json: plain.json, remote: plain.argument, dryRun: plain.switches.has('--dry-run') }));
    }
  } catch (error) {
    process.exitCode = report(error);
  }
}

/** The switches (and positional argument) each plain command line may have. */
const PLAIN: Record<string, { switches: readonly string[]; argument: boolean }> = {
  status: { switches: ['--json', '--all'], argument: false },
  sync: { switches: ['--json', '--dry-run'], argument: true },
};

/** A command line of a PLAIN command with nothing but its switches and at most its one argument, or null. */
export function plainCommand(args: readonly string[]): { name: 'status' | 'sync'; json: boolean; switches: Set<string>; argument?: string } | null {
  const name = args[0];
  const spec = name !== undefined && Object.hasOwn(PLAIN, name) ? PLAIN[name]! : null;
  if (!spec) return null;
  const switches = new Set<string>();
  let argument: string | undefined;
  for (const a of args.slice(1)) {
    if (spec.switches.includes(a)) switches.add(a);
    else if (spec.argument && argument === undefined && a !== '' && !a.startsWith('-')) argument = a;
    else return null;
  }
  return { name: name as 'status' | 'sync', json: switches.has('--json'), switches, argument };
}
