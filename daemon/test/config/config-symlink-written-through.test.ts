// A config.json that is a symbolic link (a dotfile manager keeps the real file elsewhere) stays a
// link when Errand changes it: the file it points to gets the change. Before, the first
// `errand allow` replaced the link with a regular file and left the dotfile as it was.
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { readConfigFile, updateConfigFile } from '../../src/config/load.js';
import { homePaths } from '../../src/config/paths.js';
import { tempHome } from '../helpers/daemon.js';

function setUp() {
  const top = tempHome('errand-config-link-');
  const home = path.join(top, 'home');
  const dotfiles = path.join(top, 'dotfiles');
  fs.mkdirSync(home, { mode: 0o700 });
  fs.mkdirSync(dotfiles);
  return { top, home, dotfiles, config: homePaths(home).config };
}

const addRoot = (home: string, root: string) =>
  updateConfigFile(home, (raw) => {
    raw.roots = [...((raw.roots as string[] | undefined) ?? []), root];
  });

it('a change goes to the file config.json links to; the link stays', () => {
  const { home, dotfiles, config } = setUp();
  const target = path.join(dotfiles, 'errand.json');
  fs.writeFileSync(target, '{"port": 7345}\n');
  fs.symlinkSync('../dotfiles/errand.json', config);

  addRoot(home, '/srv/project');

  expect(fs.lstatSync(config).isSymbolicLink()).toBe(true);
  expect(fs.readlinkSync(config)).toBe('../dotfiles/errand.json');
  expect(readConfigFile(target)).toEqual({ port: 7345, roots: ['/srv/project'] });
  expect(fs.statSync(target).mode & 0o777).toBe(0o600);
  // No temp file left in either folder.
  expect(fs.readdirSync(dotfiles)).toEqual(['errand.json']);
  expect(fs.readdirSync(home)).toEqual(['config.json']);
});

it('a chain of links, through a linked folder, reaches the real file', () => {
  const { top, home, dotfiles, config } = setUp();
  const target = path.join(dotfiles, 'errand.json');
  fs.writeFileSync(target, '{}\n');
  // home/config.json -> ../linked/middle.json; linked -> dotfiles; dotfiles/middle.json -> errand.json
  fs.symlinkSync('dotfiles', path.join(top, 'linked'));
  fs.symlinkSync('errand.json', path.join(dotfiles, 'middle.json'));
  fs.symlinkSync('../linked/middle.json', config);

  addRoot(home, '/srv/a');
  addRoot(home, '/srv/b');

  expect(fs.lstatSync(config).isSymbolicLink()).toBe(true);
  expect(fs.lstatSync(path.join(dotfiles, 'middle.json')).isSymbolicLink()).toBe(true);
  expect(readConfigFile(target)).toEqual({ roots: ['/srv/a', '/srv/b'] });
});

it('a link to a file not made yet: the file is made where the link points', () => {
  const { home, dotfiles, config } = setUp();
  const target = path.join(dotfiles, 'errand.json');
  fs.symlinkSync(target, config);

  addRoot(home, '/srv/project');

  expect(fs.lstatSync(config).isSymbolicLink()).toBe(true);
  expect(readConfigFile(target)).toEqual({ roots: ['/srv/project'] });
});
