// Web research steps (the API's web search and web fetch) and the sources an answer cites. Their
// titles and links come from web pages: plain text, and only http(s) links are made clickable.
import { useState } from 'preact/hooks';
import type { ThreadItem } from '../../../shared/src/index.js';
import { ENDED_TASK_STATES } from '../../../shared/src/task-states.js';
import { request } from '../conn/connection.js';
import { appStore } from '../state/app.js';
import { useStore } from '../state/store.js';
import { ErrorText } from '../ui/common.js';

type ToolItem = Extract<ThreadItem, { kind: 'tool' }>;
interface Link {
  title: string;
  url: string;
}

export const isWebStep = (item: ToolItem) => item.tool === 'web_search' || item.tool === 'web_fetch';

const safe = (url: unknown): url is string => typeof url === 'string' && /^https?:\/\//i.test(url);

function links(v: unknown): Link[] {
  if (!Array.isArray(v)) return [];
  return v
    .filter((l): l is Link => !!l && typeof l === 'object' && safe((l as Link).url))
    .map((l) => ({ title: typeof l.title === 'string' && l.title ? l.title : l.url, url: l.url }));
}

function LinkList({ items, label }: { items: Link[]; label: string }) {
  return (
    <ul class="web-links" aria-label={label}>
      {items.map((l) => (
        <li key={l.url}>
          <a href={l.url} target="_blank" rel="noopener noreferrer">
            {l.title}
          </a>
        </li>
      ))}
    </ul>
  );
}

/** Lets a task whose thread read the web read pages again (task.allowWebFetch). */
function AllowFetch({ taskId }: { taskId: string }) {
  const [state, setState] = useState<'idle' | 'busy' | 'done'>('idle');
  const [error, setError] = useState<string>();
  if (state === 'done') return <p class="web-read">Reading web pages is allowed for this task.</p>;
  return (
    <p class="web-read">
      <button
        type="button"
        disabled={state === 'busy'}
        onClick={async () => {
          setState('busy');
          setError(undefined);
          try {
            await request({ type: 'task.allowWebFetch', taskId });
            setState('done');
          } catch (e) {
            setError((e as Error).message);
            setState('idle');
          }
        }}
      >
        Allow reading web pages for this task
      </button>
      <ErrorText error={error} />
    </p>
  );
}

export function WebStepRow({ item, threadId }: { item: ToolItem; threadId: string }) {
  const input = (item.input ?? {}) as { results?: unknown; url?: unknown; title?: unknown };
  const found = item.tool === 'web_search' ? links(input.results) : [];
  const read = item.tool === 'web_fetch' && safe(input.url) ? input.url : undefined;
  const fetchOn = useStore(appStore, (s) => s.host?.web?.fetch ?? false);
  const task = useStore(appStore, (s) => s.details[threadId]?.tasks[item.taskId]);
  const active = !!task && !ENDED_TASK_STATES.has(task.state);
  return (
    <div class={`tool tool-${item.state} web-step`} data-item={item.id}>
      <div class="tool-head">
        <span class="tool-mark" aria-hidden="true">
          {item.state === 'error' ? '✕' : item.tool === 'web_search' ? '🔎' : '📄'}
        </span>
        <span class="tool-summary">{item.summary}</span>
      </div>
      {found.length > 0 && <LinkList items={found} label="Search results" />}
      {read && (
        <p class="web-read">
          <a href={read} target="_blank" rel="noopener noreferrer">
            {read}
          </a>
        </p>
      )}
      {item.state === 'error' && item.output && <p class="web-error">{item.output}</p>}
      {item.tool === 'web_search' && fetchOn && active && <AllowFetch taskId={item.taskId} />}
    </div>
  );
}

export function Sources({ sources }: { sources: unknown }) {
  const list = links(sources);
  if (!list.length) return null;
  return (
    <div class="web-sources">
      <div class="label">Sources</div>
      <LinkList items={list} label="Sources" />
    </div>
  );
}
