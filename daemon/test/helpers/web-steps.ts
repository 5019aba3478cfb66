// The API's web tools in scripted replies and in recorded requests, for taint tests: a page read
// with web fetch as the API streams it, which web tools a request offered, and a task run to done.
import type { ModelServer, ScriptBlock } from './model-server.js';
import type { WsTestClient } from './ws-client.js';

/** A web fetch of `url` whose page says `data`: the server_tool_use and its result block. */
export function fetchedPage(id: string, url: string, data: string, title = 'x'): ScriptBlock[] {
  return [
    { type: 'server', block: { type: 'server_tool_use', id, name: 'web_fetch' }, input: { url } },
    {
      type: 'server',
      block: {
        type: 'web_fetch_tool_result',
        tool_use_id: id,
        content: {
          type: 'web_fetch_result',
          url,
          retrieved_at: '2026-01-01T00:00:00Z',
          content: { type: 'document', source: { type: 'text', media_type: 'text/plain', data }, title },
        },
      },
    },
  ];
}

/** The web tools request `i` offered, as `name:max_uses`. */
export const webToolsOffered = (model: ModelServer, i: number): string[] =>
  model.requests[i].body.tools
    .filter((t: { name: string }) => t.name === 'web_search' || t.name === 'web_fetch')
    .map((t: { name: string; max_uses: number }) => `${t.name}:${t.max_uses}`);

/** Did request `i` offer web fetch? */
export const offersFetch = (model: ModelServer, i: number): boolean =>
  webToolsOffered(model, i).some((t) => t.startsWith('web_fetch:'));

/** Send a command that starts a task, and wait until that task is done. */
export async function runTaskToDone(phone: WsTestClient, msg: Parameters<WsTestClient['send']>[0]): Promise<void> {
  const made = await phone.send<{ task: { id: string } }>(msg);
  await phone.event('task.updated', (e) => e.task.id === made.task.id && e.task.state === 'done', 20_000);
}
