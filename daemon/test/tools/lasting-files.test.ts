// Which files outlive the thread: instruction files, and files other programs run or load later.
import { describe, expect, it } from 'vitest';
import { lastingKind } from '../../src/tools/lasting-files.js';

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
