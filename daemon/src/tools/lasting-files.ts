// Files whose change outlives the thread: instruction files every later task reads (CLAUDE.md,
// AGENTS.md), and files other programs run or load on their own later, outside the sandbox and
// without the person deciding to run them: start-up files (shells, editors, REPLs, login
// services), tool config that names commands, the build files a routine command runs (npm install,
// pytest, make, cargo build, git commit), installed code (node_modules, site-packages), programs
// in a folder on PATH, executable files, and what a configured connector's server runs (set by
// the connector manager: its program, the files its arguments name and their package folders). A change to one in a thread that read untrusted
// content asks, shows the whole content, and is granted only exactly.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { INSTRUCTION_FILES } from '../agent/instructions.js';

export type LastingKind = 'instructions' | 'runs-later';

const INSTRUCTIONS = new Set(INSTRUCTION_FILES.map((n) => n.toLowerCase()));

/** Files run or loaded by a program the person starts for another reason (a shell, git, npm, make …). */
const RUNS_LATER_NAMES = new Set([
  // shells and desktop sessions
  '.profile',
  '.bashrc',
  '.bash_profile',
  '.bash_login',
  '.bash_logout',
  '.bash_aliases',
  '.zshrc',
  '.zshenv',
  '.zprofile',
  '.zlogin',
  '.zlogout',
  '.kshrc',
  '.mkshrc',
  '.cshrc',
  '.tcshrc',
  '.login',
  '.logout',
  '.envrc',
  '.xprofile',
  '.xinitrc',
  '.xsession',
  '.xsessionrc',
  '.pam_environment',
  // git and the hook managers a commit runs
  '.git',
  '.gitconfig',
  '.gitmodules',
  '.pre-commit-config.yaml',
  'lefthook.yml',
  '.lefthook.yml',
  // editors, debuggers and REPLs that run commands from their start-up files
  '.vimrc',
  '.gvimrc',
  '.exrc',
  '.nvimrc',
  '.emacs',
  '.emacs.el',
  '.tmux.conf',
  '.gdbinit',
  '.lldbinit',
  '.pdbrc',
  '.pdbrc.py',
  '.pythonrc',
  '.pythonrc.py',
  'sitecustomize.py',
  'usercustomize.py',
  '.irbrc',
  '.pryrc',
  '.rprofile',
  '.psqlrc',
  '.sqliterc',
  '.curlrc',
  '.wgetrc',
  // package-manager config: where packages come from, what runs around an install, where uploads go
  '.npmrc',
  '.yarnrc',
  '.yarnrc.yml',
  '.pnpmfile.cjs',
  '.pnp.cjs',
  '.pnp.loader.mjs',
  'pip.conf',
  '.pypirc',
  '.condarc',
  '.gemrc',
  // JavaScript: npm runs lifecycle scripts (postinstall, prepare) at the next install; node-gyp runs binding.gyp
  'package.json',
  'binding.gyp',
  // lock and requirement files: an install fetches (and runs the install scripts of) what they point at, unread
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'requirements.txt',
  'pipfile',
  'pipfile.lock',
  'poetry.lock',
  'uv.lock',
  // Python: pytest imports conftest.py and the plugins its config names; installs run the build backend
  'conftest.py',
  'pytest.ini',
  '.pytest.ini',
  'tox.ini',
  'noxfile.py',
  'setup.py',
  'setup.cfg',
  'pyproject.toml',
  // make and other C/C++ builds
  'makefile',
  'gnumakefile',
  'cmakelists.txt',
  'meson.build',
  // Rust: cargo build runs build.rs (or what Cargo.toml names), and the toolchain may point at a folder
  'build.rs',
  'cargo.toml',
  'rust-toolchain',
  'rust-toolchain.toml',
  // Ruby: bundler evaluates the Gemfile, rake the Rakefile
  'gemfile',
  'rakefile',
  'rakefile.rb',
  // JVM: gradle and maven builds, and the wrappers that download and run a build tool
  'build.gradle',
  'build.gradle.kts',
  'settings.gradle',
  'settings.gradle.kts',
  'gradle.properties',
  'gradlew',
  'gradlew.bat',
  'gradle-wrapper.properties',
  'gradle-wrapper.jar',
  'pom.xml',
  'mvnw',
  'mvnw.cmd',
  'build.sbt',
  // PHP, Elixir, Zig, Bun, Deno: the install, build or run command runs what these say
  'composer.json',
  'composer.lock',
  'mix.exs',
  'mix.lock',
  'build.zig',
  'build.zig.zon',
  'bunfig.toml',
  '.bunfig.toml',
  'deno.json',
  'deno.jsonc',
  // Nix: nix-shell and direnv's `use flake` run a shellHook
  'shell.nix',
  'default.nix',
  'flake.nix',
  'flake.lock',
  // JavaScript task runners and tool config that is code, loaded by every test run or build
  'gulpfile.js',
  'gruntfile.js',
  'jakefile.js',
  '.babelrc.js',
  '.eslintrc.js',
  '.eslintrc.cjs',
  '.prettierrc.js',
  '.prettierrc.cjs',
  '.mocharc.js',
  '.mocharc.cjs',
  // CI runs these with the repository's secrets at the next push
  '.gitlab-ci.yml',
  '.travis.yml',
  'azure-pipelines.yml',
  'bitbucket-pipelines.yml',
  'jenkinsfile',
  // containers started with the project mounted
  'docker-compose.yml',
  'docker-compose.yaml',
  'compose.yml',
  'compose.yaml',
  'vagrantfile',
  // task runners and tool managers (mise runs hooks on cd)
  'justfile',
  '.justfile',
  'taskfile.yml',
  'taskfile.yaml',
  '.mise.toml',
  'mise.toml',
]);

/** Endings of file names run or loaded later: Python .pth lines run at every start; bundler evaluates gemspecs. */
const RUNS_LATER_ENDINGS = ['.pth', '.gemspec'];

/**
 * Tool config that is a script (vite.config.ts, jest.config.js, webpack.config.mjs, playwright.config.ts …):
 * the test run or build that reads it runs it, as pytest runs conftest.py.
 */
const CONFIG_SCRIPT = /\.config\.(?:[cm]?[jt]s|[jt]sx)$/;

/** Folders whose files are run or loaded later (anywhere on the path, any case). */
const RUNS_LATER_FOLDERS = new Set([
  '.git',
  '.husky',
  '.githooks',
  '.ssh',
  '.vscode',
  '.idea',
  '.devcontainer',
  '.emacs.d',
  '.bashrc.d',
  'launchagents',
  'launchdaemons',
  // IPython start-up scripts and config (profile_*/startup/*.py), Jupyter config and kernels
  '.ipython',
  '.jupyter',
  // build tools' own config, init scripts, wrappers and caches of code they run
  '.cargo',
  '.gradle',
  '.mvn',
  '.m2',
  '.yarn',
  // Mercurial runs [hooks] and [extensions] from .hg/hgrc, as git runs .git/hooks
  '.hg',
  // CI definitions, run with the repository's secrets at the next push
  '.circleci',
  '.buildkite',
  // installed code, imported by whatever runs next
  'node_modules',
  'site-packages',
  'dist-packages',
]);

/** Folders under ~/.config whose files are run or loaded later. */
const CONFIG_FOLDERS = [
  'systemd',
  'autostart',
  'autostart-scripts',
  'plasma-workspace',
  'environment.d',
  'fish',
  'git',
  'nvim',
  'emacs',
  'direnv',
  'ipython',
  'jupyter',
  'pip',
  'mise',
];

/** Nested folders (matched as a run of folder names, anywhere) whose files are run or loaded later. */
const RUNS_LATER_NESTED = [
  ...CONFIG_FOLDERS.map((f) => `.config/${f}`),
  '.local/bin', // on PATH in most distributions, often ahead of /usr/bin: a `git` here replaces git
  '.local/share/systemd', // user units, like ~/.config/systemd
  '.local/share/applications', // menu entries: a copy of firefox.desktop runs its own Exec line
  '.local/share/jupyter', // kernel specs name the command a notebook starts
  '.venv/bin', // on PATH while the virtualenv is active: pytest, black, python itself
  '.github/workflows', // CI runs these with the repository's secrets at the next push
  '.github/actions',
].map((f) => `/${f}/`);

/** How long the folders on PATH are reused before being looked up again (a link in them may change). */
const PROGRAM_FOLDERS_TTL_MS = 2_000;
let programFoldersCache: { key: string; at: number; folders: Set<string> } | undefined;

/**
 * Folders whose files run when someone types their name: those on PATH as the daemon sees it (the
 * service is given the user's), plus ~/bin and ~/.local/bin, which login shells add once they exist.
 * Each as written and as resolved, in lower case, as lastingKind compares them. Cached: lastingKind
 * runs on every write.
 */
function programFolders(): Set<string> {
  const home = os.homedir();
  const pathVar = process.env.PATH ?? '';
  const key = `${home}\0${pathVar}`;
  const now = Date.now();
  const cached = programFoldersCache;
  if (cached?.key === key && now - cached.at < PROGRAM_FOLDERS_TTL_MS) return cached.folders;
  const folders = new Set<string>();
  for (const dir of [...pathVar.split(path.delimiter), path.join(home, 'bin'), path.join(home, '.local', 'bin')]) {
    // '' and '.' mean "the current folder" to a shell: not one place, and not worth asking for every write.
    if (!path.isAbsolute(dir)) continue;
    folders.add(path.resolve(dir).toLowerCase());
    folders.add(realOrNearest(dir).toLowerCase());
  }
  programFoldersCache = { key, at: now, folders };
  return folders;
}

/** realpath of `dir`; for a missing one, of its deepest existing ancestor with the rest appended (as roots.ts does). */
function realOrNearest(dir: string): string {
  const rest: string[] = [];
  let at = path.resolve(dir);
  for (;;) {
    try {
      return path.join(fs.realpathSync.native(at), ...rest);
    } catch {
      const parent = path.dirname(at);
      if (parent === at) return path.resolve(dir);
      rest.unshift(path.basename(at));
      at = parent;
    }
  }
}

const lowerParts = (p: string) => p.toLowerCase().split(path.sep).filter(Boolean);

/**
 * What configured stdio connectors run, outside the sandbox with their secrets, at the daemon's
 * next start or a crash restart: real paths in lower case, by who set them (each connector manager).
 */
const launchSets = new Map<object, { files: Set<string>; folders: string[] }>();

/**
 * Files (`files`) and folders whose every file (`folders`) a connector's server runs or loads
 * (connectors/launch-files.ts): real paths. Replaces what `owner` set before; an empty list clears it.
 */
export function setConnectorLaunchFiles(owner: object, files: string[], folders: string[]): void {
  if (!files.length && !folders.length) launchSets.delete(owner);
  else
    launchSets.set(owner, {
      files: new Set(files.map((f) => `/${lowerParts(f).join('/')}`)),
      folders: folders.map((f) => `/${lowerParts(f).join('/')}`),
    });
}

/** Whether `joined` (lower case, as lastingKind builds it) is, or is in, what a connector runs. */
function runByConnector(joined: string): boolean {
  for (const set of launchSets.values()) {
    if (set.files.has(joined)) return true;
    if (set.folders.some((f) => joined === f || joined.startsWith(`${f}/`))) return true;
  }
  return false;
}

/** Whether something a connector runs lies in the folder `joined` (a folder moved there brings it). */
function connectorRunsUnder(joined: string): boolean {
  const under = (p: string) => p === joined || p.startsWith(`${joined}/`);
  for (const set of launchSets.values())
    if ([...set.files].some(under) || set.folders.some(under) || runByConnector(joined)) return true;
  return false;
}

/** Whether everything under the folder `parts` is lasting by its names: a lasting folder, or in one. */
function lastingFolderByNames(parts: string[]): boolean {
  const asFolder = `/${parts.join('/')}/`;
  return parts.some((f) => RUNS_LATER_FOLDERS.has(f)) || RUNS_LATER_NESTED.some((f) => asFolder.includes(f));
}

/** What kind of lasting file `real` (a resolved path) is, if any. Case-insensitive (macOS folders are). */
export function lastingKind(real: string): LastingKind | undefined {
  const parts = lowerParts(real);
  const byName = lastingByNames(parts);
  if (byName) return byName;
  const joined = `/${parts.join('/')}`;
  if (runByConnector(joined)) return 'runs-later';
  // A program in a folder on PATH (or that folder itself, moved into place).
  const onPath = programFolders();
  if (onPath.has(joined) || onPath.has(`/${parts.slice(0, -1).join('/')}`)) return 'runs-later';
  return undefined;
}

/** lastingKind by the names on a path alone (lower case), wherever the path is: PATH aside. */
function lastingByNames(parts: string[]): LastingKind | undefined {
  const name = parts[parts.length - 1] ?? '';
  if (INSTRUCTIONS.has(name)) return 'instructions';
  if (RUNS_LATER_NAMES.has(name) || RUNS_LATER_ENDINGS.some((e) => name.endsWith(e)) || CONFIG_SCRIPT.test(name))
    return 'runs-later';
  // The folders themselves too: a folder moved into place as `.ssh` or `.config/systemd` brings
  // everything in it there at once.
  if (lastingFolderByNames(parts)) return 'runs-later';
  return undefined;
}

/**
 * lastingKind of an existing file as well: one with an executable bit runs whenever something calls
 * it by its path (a cron line, another script, a folder on PATH), and an overwrite keeps the bit.
 */
export function lastingKindOfFile(real: string, stat: fs.Stats | undefined): LastingKind | undefined {
  if (isExecutable(stat)) return 'runs-later';
  return lastingKind(real);
}

/** True for a regular file with any executable bit set. */
export function isExecutable(stat: fs.Stats | undefined): boolean {
  return !!stat?.isFile() && (stat.mode & 0o111) !== 0;
}

/** Entries of a moved folder looked at, at most; past that the move counts as lasting. */
const MAX_WALK = 10_000;

/**
 * What a folder moved from `from` to `to` makes lasting: any entry in it (links are not followed)
 * whose new path is a lasting file, such as a folder named `.config` holding `systemd/user/x.service`.
 */
export function lastingInMovedFolder(from: string, to: string): LastingKind | undefined {
  let seen = 0;
  let found: LastingKind | undefined;
  const walk = (dir: string, rel: string): boolean => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return false;
    }
    for (const e of entries) {
      if (++seen > MAX_WALK) {
        found = 'runs-later';
        return true;
      }
      const kind = lastingKind(path.join(to, rel, e.name));
      if (kind === 'instructions') found ??= kind;
      if (kind === 'runs-later') {
        found = kind;
        return true;
      }
      if (e.isDirectory() && walk(path.join(dir, e.name), path.join(rel, e.name))) return true;
    }
    return false;
  };
  walk(from, '');
  return found;
}

/**
 * The entries of a folder moved from `from` to `to` that the move puts where other programs run or
 * read them: lasting at their new path for a reason their path inside the folder does not carry.
 * A `.git`, a Makefile or a CLAUDE.md inside the folder keeps its role wherever the folder goes (and
 * was lasting, so shown, when it was written there); `hooks/pre-commit` moved to `.git/` or
 * `evil` moved to `~/bin/` gets a new one. Paths are relative to the folder; folders themselves are
 * not listed (they carry nothing but their entries). `complete` is false when the walk stopped at
 * MAX_WALK entries or at a folder it could not read.
 */
export function placedByMovedFolder(
  from: string,
  to: string,
): { placed: Array<{ rel: string; file: boolean }>; complete: boolean } {
  const placed: Array<{ rel: string; file: boolean }> = [];
  // Most folders go where nothing runs (a project into an archive): no walk, however large.
  if (!mayPlaceLasting(to)) return { placed, complete: true };
  let seen = 0;
  const walk = (rel: string): boolean => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(from, rel), { withFileTypes: true });
    } catch {
      return false; // what it holds cannot be told
    }
    for (const e of entries) {
      if (++seen > MAX_WALK) return false;
      const inside = path.join(rel, e.name);
      if (e.isDirectory()) {
        // Under a lasting folder of its own (`.git`, `node_modules`), everything keeps its role.
        if (!lastingFolderByNames(lowerParts(inside)) && !walk(inside)) return false;
        continue;
      }
      const now = lastingKind(path.join(to, inside));
      if (now && now !== lastingByNames(lowerParts(inside))) placed.push({ rel: inside, file: e.isFile() });
    }
    return true;
  };
  const complete = walk('');
  return { placed, complete };
}

/**
 * Whether an entry moved into the folder `to` could be lasting because it is there: `to` is (in) a
 * lasting folder or on PATH, it starts a nested one (`.config` for `.config/systemd`, `.local` for
 * `.local/bin`), or a folder on PATH lies under it.
 */
function mayPlaceLasting(to: string): boolean {
  const parts = lowerParts(to);
  const joined = `/${parts.join('/')}`;
  if (lastingFolderByNames(parts) || connectorRunsUnder(joined)) return true;
  const starts = RUNS_LATER_NESTED.some((f) => {
    const segs = f.split('/').filter(Boolean);
    return segs.some((_, k) => k > 0 && `${joined}/`.endsWith(`/${segs.slice(0, k).join('/')}/`));
  });
  if (starts) return true;
  for (const dir of programFolders()) if (dir === joined || dir.startsWith(`${joined}/`)) return true;
  return false;
}
