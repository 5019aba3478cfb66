// Which files outlive the thread: instruction files, and files other programs run or load later.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lastingInMovedFolder, lastingKind } from '../../src/tools/lasting-files.js';

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
    // Folders moved into place whole.
    ['/home/u/.ssh', 'runs-later'],
    ['/home/u/.config/systemd', 'runs-later'],
    ['/home/u/repo/.husky', 'runs-later'],
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
