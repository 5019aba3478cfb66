// Phone commands for the API's web tools: switch them on or off (config web.search / web.fetch),
// and let one task use web fetch although its thread is tainted. Status shows their state.

import type { Task } from '../../../shared/src/index.js';
import type { Config } from '../config/schema.js';
import { updateConfigFromCommand } from '../config/update-from-command.js';
import type { DaemonContext, StatusPart } from '../context.js';
import { webRefusedBy } from './web-tools.js';

export interface WebCommandHost {
  /**
   * Allow web fetch for one task: a task still going is marked (its run told); an ended latest task
   * goes on in a new task that has it. Returns the task that may fetch. Throws not_found, conflict.
   */
  allowFetch(taskId: string): Promise<Task>;
}

export function registerWebCommands(ctx: DaemonContext, host: WebCommandHost): void {
  ctx.commands.register('task.allowWebFetch', async (c) => ({ task: await host.allowFetch(c.taskId) }));
  ctx.commands.register('web.set', async (c) => {
    updateConfigFromCommand(ctx.paths.home, (raw) => {
      const web = { ...((raw.web as Record<string, unknown> | undefined) ?? {}) };
      if (c.search !== undefined) web.search = c.search;
      if (c.fetch !== undefined) web.fetch = c.fetch;
      raw.web = web;
    });
    ctx.reloadConfig();
    const status = ctx.status();
    await ctx.emit({ kind: 'host.updated', status });
    return { web: status.web };
  });
}

/** The web tools' part of the host status (composed by daemon.ts). */
export function webStatus(cfg: Config): StatusPart {
  const refused = webRefusedBy(cfg.anthropic.baseUrl);
  return { web: { search: cfg.web.search, fetch: cfg.web.fetch, ...(refused ? { refused } : {}) } };
}
