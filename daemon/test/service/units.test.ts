// The generated service files: the systemd unit passes `systemd-analyze verify` with nothing on
// stderr; the LaunchAgent plist parses (python's plistlib) and has the keys launchd needs.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectDir } from '../../src/service/index.js';
import {
  homeFromServiceFile,
  launchdPlist,
  programFromServiceFile,
  type ServiceSpec,
  systemdUnit,
} from '../../src/service/units.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-units-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const project = projectDir();
const awkwardHome = path.join(tmp, 'my home', 'with %percent "quote" $dollar & <amp>');
const spec: ServiceSpec = {
  node: process.execPath,
  entry: path.join(project, 'daemon', 'bin', 'errand.js'),
  projectDir: project,
  home: awkwardHome,
  path: `${path.dirname(process.execPath)}:/usr/bin:/bin`,
};

/** `systemd-analyze --user verify` on a unit text; user units need a private XDG_RUNTIME_DIR. */
function verify(text: string): { stderr: string; status: number | null } {
  const runtime = fs.mkdtempSync(path.join(tmp, 'runtime-'));
  fs.chmodSync(runtime, 0o700);
  const dir = fs.mkdtempSync(path.join(tmp, 'unit-'));
  const file = path.join(dir, 'errand.service');
  fs.writeFileSync(file, text);
  const r = spawnSync('systemd-analyze', ['--user', 'verify', file], {
    env: { ...process.env, XDG_RUNTIME_DIR: runtime, SYSTEMD_LOG_LEVEL: 'info' },
    encoding: 'utf8',
  });
  return { stderr: r.stderr, status: r.status };
}

describe('systemd user unit', () => {
  const unit = systemdUnit(spec);

  it('has the restart, stop and exec settings the daemon relies on', () => {
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^RestartPreventExitStatus=78 65$/m);
    expect(unit).toMatch(/^KillMode=mixed$/m);
    expect(unit).toMatch(/^KillSignal=SIGTERM$/m);
    expect(unit).toMatch(/^TimeoutStopSec=\d+$/m);
    expect(unit).toMatch(/^WantedBy=default\.target$/m);
    expect(unit).toContain(
      `ExecStart="${process.execPath}" "--max-semi-space-size=32" "--heap-growing-percent=50" "--expose-gc" "--v8-pool-size=1" "--no-opt" "${spec.entry}" "start"`,
    );
    // glibc's allocator settings that keep the daemon's memory flat (DAEMON_ENV).
    expect(unit).toMatch(/^Environment="MALLOC_ARENA_MAX=2"$/m);
    expect(unit).toMatch(/^Environment="MALLOC_MMAP_THRESHOLD_=32768"$/m);
    expect(unit).not.toMatch(/ANTHROPIC|apiKey/i);
    expect(homeFromServiceFile(unit)).toBe(awkwardHome);
  });

  it('an older unit without ERRAND_HOME reads back as the default home', () => {
    const older = systemdUnit(spec).replace(/^Environment="ERRAND_HOME=.*\n/m, '');
    expect(older).not.toContain('ERRAND_HOME');
    expect(homeFromServiceFile(older)).toBeUndefined();
  });

  it('passes systemd-analyze verify with nothing on stderr', () => {
    expect(verify(unit)).toEqual({ stderr: '', status: 0 });
  });

  it('also verifies with spaces, % and $ in the project path', () => {
    const odd = path.join(tmp, 'pro ject %i $HOME');
    fs.mkdirSync(path.join(odd, 'daemon', 'bin'), { recursive: true });
    fs.writeFileSync(path.join(odd, 'daemon', 'bin', 'errand.js'), '');
    const text = systemdUnit({ ...spec, projectDir: odd, entry: path.join(odd, 'daemon', 'bin', 'errand.js') });
    expect(verify(text)).toEqual({ stderr: '', status: 0 });
    expect(programFromServiceFile(text)).toEqual([process.execPath, path.join(odd, 'daemon', 'bin', 'errand.js')]);
  });

  it('rejects a path with a line break instead of writing a broken unit', () => {
    expect(() => systemdUnit({ ...spec, home: '/tmp/a\nExecStartPre=/bin/evil' })).toThrow(/line break/);
  });
});

describe('LaunchAgent plist', () => {
  const plist = launchdPlist(spec);

  it('parses as a property list with the required keys', () => {
    const file = path.join(tmp, 'dev.errand.daemon.plist');
    fs.writeFileSync(file, plist);
    const out = execFileSync(
      'python3',
      ['-c', 'import json,plistlib,sys; print(json.dumps(plistlib.load(open(sys.argv[1],"rb"))))', file],
      { encoding: 'utf8' },
    );
    const parsed = JSON.parse(out) as Record<string, unknown>;
    expect(parsed.Label).toBe('dev.errand.daemon');
    expect(parsed.ProgramArguments).toEqual([
      process.execPath,
      '--max-semi-space-size=32',
      '--heap-growing-percent=50',
      '--expose-gc',
      '--v8-pool-size=1',
      '--no-opt',
      spec.entry,
      'start',
    ]);
    expect(parsed.RunAtLoad).toBe(true);
    expect(parsed.KeepAlive).toEqual({ SuccessfulExit: false, Crashed: true });
    expect(parsed.StandardOutPath).toBe(path.join(awkwardHome, 'logs', 'service.log'));
    expect(parsed.StandardErrorPath).toBe(path.join(awkwardHome, 'logs', 'service.log'));
    expect(parsed.WorkingDirectory).toBe(project);
    expect(parsed.ExitTimeOut).toBeGreaterThan(0);
    expect((parsed.EnvironmentVariables as Record<string, string>).ERRAND_HOME).toBe(awkwardHome);
    expect(parsed.EnvironmentVariables).toMatchObject({ MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '32768' });
    expect(homeFromServiceFile(plist)).toBe(awkwardHome);
  });
});
