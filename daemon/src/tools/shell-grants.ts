// What "allow for the rest of this task" covers for a shell command. A grant is never wider than
// what was shown: it covers other arguments of the same program only for programs known to just
// read and print (ls, cat, grep …), and only while none of the options that would let them run a
// program, write a file, or read files no argument names is used (rg --pre, sort -o, fd --exec,
// sort --files0-from, cksum -c, grep -R, strings @FILE …). Every other program (anything
// that can run programs or write through its arguments: find, git, awk, sed, perl, xargs, make,
// ssh, env, sh -c … and anything unknown) gets a grant for the exact same argv only, as does every
// command while the sandbox is off (nothing then contains what a different argv could do).
//
// A grant is bound to the file that runs, not to the name the model typed: the class names the
// program's resolved absolute path (shell:/usr/bin/cat), so a grant for cat at /usr/bin/cat does not
// cover a `cat` that later resolves to a file planted in a PATH folder inside the allowed folders.
// A program the agent could have written (inside the allowed folders) is never covered across
// arguments: its grant is the exact argv and the exact content (SHA-256) of that file. So are the
// files an exact argv names there (the script of `bash run.sh`, the data of `python3 job.py in.csv`).

/** A file an argv names in the allowed folders, as it was when the command was checked (argument-files.ts). */
export interface ArgumentFile {
  /** The file's real path. */
  path: string;
  /** `sha256:<hex>` of its content, or past the hashing budget `file:<dev>:<ino>:<size>:<ctime ns>`. */
  identity: string;
}

interface Reader {
  /**
   * Short option letters that make the program run something, write a file, or read beyond its
   * arguments: a list of file names from a file (--files0-from), or links followed while it walks
   * a folder (grep -R, rg -L). Those reach files no argument names, so the check of the arguments
   * against the allowed folders could not see them.
   */
  short?: string;
  /** Long options (without --) that do; an abbreviation of one counts too (GNU getopt accepts them). */
  long?: string[];
  /** At most this many positional arguments (uniq IN OUT writes OUT). */
  maxPositionals?: number;
  /**
   * It reads more arguments from the file an `@FILE` argument names (binutils' response files, even
   * after `--`): FILE may name files outside the allowed folders that no argument shows.
   */
  responseFiles?: boolean;
}

const PLAIN: Reader = {};
/** md5sum -c LIST (cksum -c too, coreutils 9.1+) reads every file LIST names: an oracle for files anywhere. */
const CHECKSUM: Reader = { short: 'c', long: ['check'] };
const GREP: Reader = { short: 'R', long: ['dereference-recursive'] };

const READERS: Record<string, Reader> = {
  ls: { short: 'L', long: ['dereference'] },
  cat: PLAIN,
  head: PLAIN,
  tail: PLAIN,
  wc: { long: ['files0-from'] },
  grep: GREP,
  egrep: GREP,
  fgrep: GREP,
  cut: PLAIN,
  nl: PLAIN,
  stat: PLAIN,
  du: { short: 'L', long: ['files0-from', 'dereference'] },
  df: PLAIN,
  pwd: PLAIN,
  echo: PLAIN,
  printf: PLAIN,
  basename: PLAIN,
  dirname: PLAIN,
  realpath: PLAIN,
  readlink: PLAIN,
  whoami: PLAIN,
  id: PLAIN,
  uname: PLAIN,
  which: PLAIN,
  true: PLAIN,
  false: PLAIN,
  seq: PLAIN,
  cmp: PLAIN,
  comm: PLAIN,
  // Not diff: given a folder (diff d1 d2, diff file d2) it reads the files in it by name and follows
  // links there to files outside the allowed folders that no argument names.
  md5sum: CHECKSUM,
  sha1sum: CHECKSUM,
  sha256sum: CHECKSUM,
  sha512sum: CHECKSUM,
  cksum: CHECKSUM,
  // Not jq: its program text may `import "../../../etc/x" as $d` (or include) a file anywhere.
  column: PLAIN,
  fold: PLAIN,
  rev: PLAIN,
  tac: PLAIN,
  strings: { responseFiles: true },
  od: PLAIN,
  nproc: PLAIN,
  date: { short: 's', long: ['set'] },
  // -z / -Z look inside compressed files by running decompressors found on PATH.
  file: { short: 'CfzZ', long: ['compile', 'files-from', 'uncompress', 'uncompress-noreport'] },
  // -R runs tree again (through sh, from PATH) in each folder with -o 00Tree.html.
  tree: { short: 'olR' },
  uniq: { maxPositionals: 1 },
  sort: { short: 'oT', long: ['output', 'compress-program', 'temporary-directory', 'files0-from'] },
  // --hostname-bin (ripgrep 14) runs a program for the {host} of --hyperlink-format.
  rg: { short: 'zL', long: ['pre', 'pre-glob', 'search-zip', 'follow', 'hostname-bin'] },
  fd: { short: 'xXL', long: ['exec', 'exec-batch', 'follow'] },
  fdfind: { short: 'xXL', long: ['exec', 'exec-batch', 'follow'] },
};

/** True when this argv of a known reader uses nothing that could run a program, write a file, or read unnamed files. */
function onlyReads(argv: string[], reader: Reader): boolean {
  let positionals = 0;
  let options = true;
  for (const arg of argv.slice(1)) {
    if (reader.responseFiles && arg.startsWith('@')) return false;
    if (options && arg === '--') {
      options = false;
      continue;
    }
    if (options && arg.startsWith('--')) {
      const name = arg.slice(2).split('=')[0];
      if (name === '' || reader.long?.some((l) => l.startsWith(name))) return false;
      continue;
    }
    if (options && arg.startsWith('-') && arg.length > 1) {
      // A cluster (-nro): any letter in it may be the dangerous one (or take the rest as its value).
      if ([...arg.slice(1)].some((c) => reader.short?.includes(c))) return false;
      // Too many letters for pathCandidates to try each one's value.
      if ((/^-[A-Za-z0-9]*/.exec(arg)?.[0].length ?? 0) > MAX_CLUSTER_LETTERS + 1) return false;
      continue;
    }
    positionals++;
  }
  return reader.maxPositionals === undefined || positionals <= reader.maxPositionals;
}

/** Option letters read in a cluster (-uvf) before its value; a longer run is never a plain read (onlyReads). */
const MAX_CLUSTER_LETTERS = 32;

/**
 * What an argument may name as a file: itself, an option's value (--file=x, -fx), and in a cluster of
 * short options the value of any of its letters: `date -uf/x` reads /x, the value of its second letter.
 */
export function pathCandidates(arg: string): string[] {
  const out = [arg];
  const eq = arg.indexOf('=');
  if (arg.startsWith('-') && eq > 0) out.push(arg.slice(eq + 1));
  if (/^-[^-]./.test(arg)) {
    out.push(arg.slice(2));
    // Past the first letter, each letter may be the one that takes the rest as its value.
    for (let i = 3; i <= Math.min(arg.length - 1, MAX_CLUSTER_LETTERS + 1) && /[A-Za-z0-9]/.test(arg[i - 1]); i++)
      out.push(arg.slice(i));
  }
  return out.filter((c) => c !== '' && c !== '-');
}

/** The file a command runs, as resolve-program.ts found it. */
export interface ProgramFile {
  path: string;
  writable: boolean;
  sha256?: string;
}

/**
 * Whether a grant of this class runs code that files may decide: every exact shell class (a plain
 * read's wide class only prints). What runs is more than the files an argv names (argument-files.ts):
 * main.py imports helper.py, run.sh sources lib.sh, `make` reads the Makefile, `python -m job`, a glob.
 * So such a grant lapses, for every task, once the agent's file tools change a file: the next run
 * is asked about again.
 */
export const grantRunsFileCode = (actionClass: string): boolean => /^shell:[[{]/.test(actionClass);

/** Whether a grant for this command covers other arguments of its program (a plain read: see the top). */
export function grantIsWide(
  argv: string[],
  sandboxOn: boolean,
  inside?: (candidate: string) => boolean,
  program?: ProgramFile,
): boolean {
  return sandboxOn && isPlainRead(argv, program, inside);
}

/**
 * Whether this command is a known reader used with none of the options that run a program or write
 * a file (nor read beyond its arguments; with `inside`, every argument it names is in the allowed
 * folders): it changes no file, sandboxed or not.
 */
export function isPlainRead(argv: string[], program?: ProgramFile, inside?: (candidate: string) => boolean): boolean {
  if (program?.writable) return false;
  const prog = argv[0];
  // A path (./ls, /tmp/x/cat) may be any program under that name: exact.
  const reader = !prog.includes('/') && Object.hasOwn(READERS, prog) ? READERS[prog] : undefined;
  return (
    reader !== undefined &&
    onlyReads(argv, reader) &&
    (!inside || argv.slice(1).every((a) => pathCandidates(a).every(inside)))
  );
}

/**
 * The grant class of a shell command: `shell:<program>` for plain reads, else the exact argv.
 * `inside(candidate)` says whether an argument that names an existing file or folder is inside the
 * allowed folders (really: not a file with other hard links either, plain-read-arguments.ts): a wide
 * grant never covers reading something outside them (cat ~/.ssh/id_rsa after cat notes.txt), since
 * the sandbox does not stop reads there. `program` is the file argv[0]
 * resolved to: the class names it, and one the agent could have written gets an exact class bound
 * to its content.
 */
export function shellActionClass(
  argv: string[],
  sandboxOn = true,
  inside?: (candidate: string) => boolean,
  program?: ProgramFile,
  files: ArgumentFile[] = [],
): string {
  // Files the arguments name in the allowed folders (bash run.sh): an exact grant covers only the
  // content they had when shown (argument-files.ts).
  const bound = files.length ? { files: files.map((f) => [f.path, f.identity]) } : {};
  if (program?.writable)
    return `shell:${JSON.stringify({ program: program.path, sha256: program.sha256 ?? null, argv, ...bound })}`;
  if (grantIsWide(argv, sandboxOn, inside, program)) return `shell:${program?.path ?? argv[0]}`;
  const exact = program ? [program.path, ...argv.slice(1)] : argv;
  return `shell:${JSON.stringify(files.length ? { argv: exact, ...bound } : exact)}`;
}
