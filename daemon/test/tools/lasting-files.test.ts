// Which files outlive the thread: instruction files, and files other programs run or load later.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lastingInMovedFolder, lastingKind, lastingKindOfFile } from '../../src/tools/lasting-files.js';

describe('lasting files', () => {
  it.each([
    ['/home/u/work/CLAUDE.md', 'instructions'],
    ['/home/u/work/sub/agents.md', 'instructions'],
    ['/home/u/repo/.git/hooks/pre-commit', 'runs-later'],
    ['/home/u/repo/.git/config', 'runs-later'],
    ['/home/u/repo/.GIT/hooks/pre-push', 'runs-later'],
    ['/home/u/repo/.git', 'runs-later'],
    ['/home/u/repo/.husky/pre-commit', 'runs-later'],
    ['/home/u/.bashrc', 'runs-later'],
    ['/home/u/.zshenv', 'runs-later'],
    ['/home/u/.profile', 'runs-later'],
    ['/home/u/proj/.envrc', 'runs-later'],
    ['/home/u/.gitconfig', 'runs-later'],
    ['/home/u/.config/git/config', 'runs-later'],
    ['/home/u/.config/systemd/user/evil.service', 'runs-later'],
    ['/home/u/.config/autostart/evil.desktop', 'runs-later'],
    ['/home/u/.config/fish/config.fish', 'runs-later'],
    ['/home/u/Library/LaunchAgents/com.evil.plist', 'runs-later'],
    ['/home/u/.ssh/authorized_keys', 'runs-later'],
    ['/home/u/.ssh/config', 'runs-later'],
    ['/home/u/proj/.vscode/tasks.json', 'runs-later'],
    ['/home/u/.npmrc', 'runs-later'],
    ['/home/u/.local/lib/python3.11/site-packages/evil.pth', 'runs-later'],
    ['/home/u/.local/lib/python3.11/site-packages/sitecustomize.py', 'runs-later'],
    ['/home/u/.bash_aliases', 'runs-later'],
    // Build, install and CI files of other ecosystems, and tool config that is a script.
    ['/home/u/proj/composer.json', 'runs-later'],
    ['/home/u/proj/mix.exs', 'runs-later'],
    ['/home/u/proj/.hg/hgrc', 'runs-later'],
    ['/home/u/proj/bunfig.toml', 'runs-later'],
    ['/home/u/proj/shell.nix', 'runs-later'],
    ['/home/u/proj/build.zig', 'runs-later'],
    ['/home/u/proj/.github/workflows/ci.yml', 'runs-later'],
    ['/home/u/proj/.gitlab-ci.yml', 'runs-later'],
    ['/home/u/proj/jest.config.js', 'runs-later'],
    ['/home/u/proj/vite.config.ts', 'runs-later'],
    ['/home/u/proj/webpack.config.mjs', 'runs-later'],
    // Folders moved into place whole.
    ['/home/u/.ssh', 'runs-later'],
    ['/home/u/.config/systemd', 'runs-later'],
    ['/home/u/repo/.husky', 'runs-later'],
    // Programs that shadow others on PATH, wherever the home folder is.
    ['/home/u/.local/bin/git', 'runs-later'],
    ['/srv/other-home/.local/bin/ls', 'runs-later'],
    ['/home/u/.local/bin', 'runs-later'],
    ['/home/u/proj/.venv/bin/pytest', 'runs-later'],
    // IPython and Jupyter start-up scripts, config and kernels.
    ['/home/u/.ipython/profile_default/startup/00-x.py', 'runs-later'],
    ['/home/u/.ipython/profile_default/ipython_config.py', 'runs-later'],
    ['/home/u/.jupyter/jupyter_server_config.py', 'runs-later'],
    ['/home/u/.config/ipython/profile_default/startup/00-x.py', 'runs-later'],
    ['/home/u/.local/share/jupyter/kernels/python3/kernel.json', 'runs-later'],
    // Build and install files a routine command runs: npm install, pytest, make, cargo build, git commit …
    ['/home/u/proj/package.json', 'runs-later'],
    ['/home/u/proj/package-lock.json', 'runs-later'],
    ['/home/u/proj/conftest.py', 'runs-later'],
    ['/home/u/proj/tests/conftest.py', 'runs-later'],
    ['/home/u/proj/pytest.ini', 'runs-later'],
    ['/home/u/proj/setup.py', 'runs-later'],
    ['/home/u/proj/pyproject.toml', 'runs-later'],
    ['/home/u/proj/requirements.txt', 'runs-later'],
    ['/home/u/proj/Makefile', 'runs-later'],
    ['/home/u/proj/GNUmakefile', 'runs-later'],
    ['/home/u/proj/makefile', 'runs-later'],
    ['/home/u/proj/CMakeLists.txt', 'runs-later'],
    ['/home/u/proj/.pre-commit-config.yaml', 'runs-later'],
    ['/home/u/proj/build.rs', 'runs-later'],
    ['/home/u/proj/Cargo.toml', 'runs-later'],
    ['/home/u/proj/.cargo/config.toml', 'runs-later'],
    ['/home/u/.cargo/config', 'runs-later'],
    ['/home/u/proj/justfile', 'runs-later'],
    ['/home/u/proj/Justfile', 'runs-later'],
    ['/home/u/proj/Rakefile', 'runs-later'],
    ['/home/u/proj/Gemfile', 'runs-later'],
    ['/home/u/proj/evil.gemspec', 'runs-later'],
    ['/home/u/proj/gradlew', 'runs-later'],
    ['/home/u/proj/build.gradle.kts', 'runs-later'],
    ['/home/u/proj/gradle/wrapper/gradle-wrapper.properties', 'runs-later'],
    ['/home/u/.gradle/init.d/x.gradle', 'runs-later'],
    ['/home/u/proj/pom.xml', 'runs-later'],
    // Installed code, tool config that names commands or where packages and uploads go.
    ['/home/u/proj/node_modules/left-pad/index.js', 'runs-later'],
    ['/home/u/.local/lib/python3.11/site-packages/requests/__init__.py', 'runs-later'],
    ['/home/u/.pypirc', 'runs-later'],
    ['/home/u/.config/pip/pip.conf', 'runs-later'],
    ['/home/u/.emacs.d/init.el', 'runs-later'],
    ['/home/u/.gdbinit', 'runs-later'],
    ['/home/u/.local/share/systemd/user/x.service', 'runs-later'],
    ['/home/u/.local/share/applications/firefox.desktop', 'runs-later'],
  ])('%s is %s', (file, kind) => {
    expect(lastingKind(file)).toBe(kind);
  });

  it.each([
    '/home/u/work/report.md',
    '/home/u/work/git/config.txt',
    '/home/u/work/bashrc-notes.md',
    '/home/u/.config/other/settings.json',
    '/home/u/work/hooks/pre-commit',
    '/home/u/work/profile.md',
    '/home/u/proj/src/index.js',
    '/home/u/proj/src/main.rs',
    '/home/u/proj/src/config.ts',
    '/home/u/proj/src/app-config.ts',
    '/home/u/proj/config.json',
    '/home/u/proj/.github/ISSUE_TEMPLATE/bug.md',
    '/home/u/proj/tests/test_app.py',
    '/home/u/proj/bin/run.sh',
    '/home/u/proj/docs/makefile-notes.md',
    '/home/u/proj/config.toml',
    '/home/u/.local/share/notes/todo.md',
  ])('%s is an ordinary file', (file) => {
    expect(lastingKind(file)).toBeUndefined();
  });
});

describe('a folder moved into place', () => {
  it('is lasting when anything in it lands on a lasting path; ordinary folders are not', () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-lasting-'));
    try {
      fs.mkdirSync(path.join(base, 'cfg/systemd/user'), { recursive: true });
      fs.writeFileSync(path.join(base, 'cfg/systemd/user/x.service'), '[Service]\n');
      fs.mkdirSync(path.join(base, 'docs'));
      fs.writeFileSync(path.join(base, 'docs/CLAUDE.md'), 'rules');
      fs.writeFileSync(path.join(base, 'docs/notes.md'), 'notes');
      expect(lastingInMovedFolder(path.join(base, 'cfg'), '/home/u/.config')).toBe('runs-later');
      expect(lastingInMovedFolder(path.join(base, 'cfg'), '/home/u/stuff')).toBeUndefined();
      expect(lastingInMovedFolder(path.join(base, 'docs'), '/home/u/project')).toBe('instructions');
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
});

describe('programs on PATH and executable files', () => {
  const saved = { PATH: process.env.PATH, HOME: process.env.HOME };
  const temps: string[] = [];
  const temp = () => {
    const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-lasting-')));
    temps.push(dir);
    return dir;
  };
  afterEach(() => {
    process.env.PATH = saved.PATH;
    process.env.HOME = saved.HOME;
    for (const dir of temps.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a file in a folder on PATH runs later, through a link or before the folder exists; ~/bin and ~/.local/bin always', () => {
    const base = temp();
    fs.mkdirSync(path.join(base, 'real-tools'));
    fs.symlinkSync(path.join(base, 'real-tools'), path.join(base, 'tools'));
    process.env.PATH = [path.join(base, 'tools'), path.join(base, 'tools', 'later'), 'relative/bin', saved.PATH].join(
      path.delimiter,
    );
    process.env.HOME = path.join(base, 'me');
    // Written through the link, the write sees the real path.
    expect(lastingKind(path.join(base, 'real-tools', 'git'))).toBe('runs-later');
    expect(lastingKind(path.join(base, 'tools', 'git'))).toBe('runs-later');
    expect(lastingKind(path.join(base, 'real-tools', 'later', 'npm'))).toBe('runs-later');
    expect(lastingKind(path.join(base, 'me', 'bin', 'ls'))).toBe('runs-later');
    expect(lastingKind(path.join(base, 'me', '.local', 'bin', 'ls'))).toBe('runs-later');
    // The folder itself, moved into place whole.
    expect(lastingKind(path.join(base, 'me', 'bin'))).toBe('runs-later');
    // Not on PATH: a subfolder of a PATH folder, a relative PATH entry, another user's ~/bin.
    expect(lastingKind(path.join(base, 'real-tools', 'docs', 'readme.md'))).toBeUndefined();
    expect(lastingKind(path.join(base, 'relative', 'bin', 'x'))).toBeUndefined();
    expect(lastingKind(path.join(base, 'someone', 'bin', 'ls'))).toBeUndefined();
    // PATH is read again when it changes.
    process.env.PATH = saved.PATH;
    expect(lastingKind(path.join(base, 'real-tools', 'git'))).toBeUndefined();
  });

  it('an existing file with an executable bit runs later; without one it is ordinary', () => {
    const base = temp();
    const script = path.join(base, 'backup.sh');
    fs.writeFileSync(script, '#!/bin/sh\n', { mode: 0o755 });
    const notes = path.join(base, 'notes.txt');
    fs.writeFileSync(notes, 'notes', { mode: 0o644 });
    expect(lastingKindOfFile(script, fs.statSync(script))).toBe('runs-later');
    expect(lastingKindOfFile(notes, fs.statSync(notes))).toBeUndefined();
    fs.chmodSync(notes, 0o744);
    expect(lastingKindOfFile(notes, fs.statSync(notes))).toBe('runs-later');
    expect(lastingKindOfFile(path.join(base, 'CLAUDE.md'), undefined)).toBe('instructions');
  });
});

describe('a folder moved into place, for the build and start-up files', () => {
  it.each([
    ['proj', 'package.json', '/home/u/new-proj'],
    ['proj', 'tests/conftest.py', '/home/u/new-proj'],
    ['proj', 'Makefile', '/home/u/new-proj'],
    ['stuff', 'profile_default/startup/00-x.py', '/home/u/.ipython'],
    ['stuff', 'bin/git', '/home/u/.local'],
    ['stuff', 'left-pad/index.js', '/home/u/proj/node_modules'],
  ])('%s holding %s, moved to %s, runs later', (folder, file, to) => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-lasting-'));
    try {
      fs.mkdirSync(path.dirname(path.join(base, folder, file)), { recursive: true });
      fs.writeFileSync(path.join(base, folder, file), 'x');
      expect(lastingInMovedFolder(path.join(base, folder), to)).toBe('runs-later');
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
});
