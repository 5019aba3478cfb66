// Which plain reads walk folders and read the files in them (not only their names, as ls -R, du,
// tree and fd do): grep, egrep and fgrep when recursive (-r, --recursive, -d recurse,
// --directories=recurse, in any abbreviation getopt and argmatch accept), and rg, which is
// recursive by default. -R / rg -L (links followed) already make a grant exact (shell-grants.ts).
// Meant to err towards "walks": a walk that was not needed only looks at more files.

const GREPS = new Set(['grep', 'egrep', 'fgrep']);

/** A word GNU getopt or argmatch may take for `full` (an abbreviation, ambiguous ones too). */
const abbreviates = (word: string | undefined, full: string): boolean =>
  word !== undefined && word !== '' && full.startsWith(word);

/** Whether this argv (a plain read: a known reader's name in argv[0]) walks the folders it is given, or its cwd. */
export function walksFolders(argv: string[]): boolean {
  if (argv[0] === 'rg') return true;
  return GREPS.has(argv[0]) && grepRecurses(argv.slice(1));
}

/**
 * Every argument is looked at, even after `--`: `-e --` makes `--` a pattern, not the end of the
 * options, and a pattern read as a flag only makes the call walk.
 */
function grepRecurses(args: string[]): boolean {
  return args.some((arg, i) => {
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const value = eq < 0 ? args[i + 1] : arg.slice(eq + 1);
      return abbreviates(name, 'recursive') || (abbreviates(name, 'directories') && abbreviates(value, 'recurse'));
    }
    if (!arg.startsWith('-') || arg.length < 2) return false;
    // A cluster (-nr, -rl, -drecurse): any r in it may be the flag; a closing d takes the next word.
    return arg.includes('r') || (arg.endsWith('d') && abbreviates(args[i + 1], 'recurse'));
  });
}
