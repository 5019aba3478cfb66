// The daemon's feature modules, started in order after the core and stopped in reverse.
import type { DaemonContext, DaemonModule } from './context.js';

export async function startModules(_ctx: DaemonContext): Promise<DaemonModule[]> {
  const modules: DaemonModule[] = [];
  return modules;
}
