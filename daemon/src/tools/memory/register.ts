// Memory on the phone (WebSocket commands) and in the CLI (control socket methods).
import type { DaemonContext } from '../../context.js';
import type { MemoryService } from './service.js';

export function registerMemoryCommands(ctx: DaemonContext, m: MemoryService): void {
  const c = ctx.commands;
  c.register('memory.list', async () => ({ entries: await m.list(), enabled: ctx.config().memory.enabled }));
  c.register('memory.get', async (cmd) => m.read(cmd.path));
  c.register('memory.put', async (cmd) => ({ entry: await m.write(cmd.path, cmd.text) }));
  c.register('memory.delete', async (cmd) => {
    await m.remove(cmd.path);
    return {};
  });
  c.register('memory.clear', async () => ({ removed: await m.clear() }));
  c.register('instructions.get', async () => ({ text: await m.instructions() }));
  c.register('instructions.put', async (cmd) => ({ text: await m.setInstructions(cmd.text) }));

  const str = (v: unknown, name: string): string => {
    if (typeof v !== 'string') throw new Error(`${name} is required`);
    return v;
  };
  const ctl = ctx.control;
  ctl.register('memory.list', async () => ({ entries: await m.list(), enabled: ctx.config().memory.enabled }));
  ctl.register('memory.show', async (p) => m.read(str(p.path, 'path')));
  ctl.register('memory.edit', async (p) => ({ entry: await m.write(str(p.path, 'path'), str(p.text, 'text')) }));
  ctl.register('memory.rm', async (p) => {
    await m.remove(str(p.path, 'path'));
    return {};
  });
  ctl.register('memory.clear', async () => ({ removed: await m.clear() }));
}
