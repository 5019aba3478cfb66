// Phone commands for the API's web tools: switch them on or off (config web.search / web.fetch),
// and let one task use web fetch although its thread is tainted. Status shows their state.

import type { Task } from '../../../shared/src/index.js';
import type { ConfigEdit } from '../config/owed-config-change.js';
import type { Config } from '../config/schema.js';
import { changeConfigOnce } from '../config-changes.js';
import type { DaemonContext, StatusPart } from '../context.js';
import { senderOf } from '../device-changes.js';
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
  // Written to config.json and applied at once, once across a kill -9 (config-changes.ts).
  ctx.commands.register('web.set', async (c, cc) => {
    const edits: ConfigEdit[] = [];
    if (c.search !== undefined) edits.push({ path: ['web', 'search'], value: c.search });
    if (c.fetch !== undefined) edits.push({ path: ['web', 'fetch'], value: c.fetch });
    return changeConfigOnce(ctx, senderOf(c, cc.device.id), 'web', edits);
  });
}

/** The web tools' part of the host status (composed by daemon.ts). */
export function webStatus(cfg: Config): StatusPart {
  const refused = webRefusedBy(cfg.anthropic.baseUrl);
  return { web: { search: cfg.web.search, fetch: cfg.web.fetch, ...(refused ? { refused } : {}) } };
}
