// Web research steps (the API's web search and web fetch), the sources an answer cites, and the
// notice that web fetch was withdrawn (with the Allow control). Titles and links come from web
// pages: plain text, and only http(s) links are made clickable.
import { useState } from 'preact/hooks';
import type { ThreadItem } from '../../../shared/src/index.js';
import { ENDED_TASK_STATES } from '../../../shared/src/task-states.js';
import { visibleText } from '../../../shared/src/visible-text.js';
import { FETCH_ALLOWED_NOTICE, FETCH_WITHDRAWN_NOTICE } from '../../../shared/src/web-fetch-words.js';
import { request } from '../conn/connection.js';
import { destinationNote } from '../lib/markdown.js';
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
            {visibleText(l.title)}
            {/* A page chooses its title ("https://bank.example.com", say): where the link goes is shown too. */}
            {destinationNote(l.title, l.url)}
          </a>
        </li>
      ))}
    </ul>
  );
}

type NoticeItem = Extract<ThreadItem, { kind: 'notice' }>;

/** The daemon's notice that a task's request had web fetch withdrawn: the place to allow it. */
export const isFetchOffNotice = (item: NoticeItem) => item.text === FETCH_WITHDRAWN_NOTICE;

/**
 * Web fetch was withdrawn from a task because its conversation read untrusted content: the notice
 * says why, and a tap allows it (task.allowWebFetch). A task still going takes it up; on the
 * thread's latest task, once ended, the thread goes on in a new task that may read pages.
 */
export function FetchOffNotice({ item, threadId }: { item: NoticeItem; threadId: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const fetchOn = useStore(appStore, (s) => s.host?.web?.fetch ?? false);
  const taskId = item.taskId ?? '';
  const task = useStore(appStore, (s) => s.details[threadId]?.tasks[taskId]);
  const allowed = useStore(appStore, (s) =>
    (s.details[threadId]?.items ?? []).some(
      (i) => i.kind === 'notice' && i.taskId === taskId && i.text === FETCH_ALLOWED_NOTICE,
    ),
  );
  const latest = useStore(appStore, (s) => {
    const tasks = Object.values(s.details[threadId]?.tasks ?? {});
    return tasks.every((t) => t.id === taskId || t.createdAt <= (task?.createdAt ?? 0));
  });
  // The computer refuses to allow it in a deleted thread: offered again once it is restored.
  const threadDeleted = useStore(appStore, (s) => s.threads[threadId]?.state === 'deleted');
  const ended = !!task && ENDED_TASK_STATES.has(task.state);
  // Allowed already, or a later message took the thread on: only the why stays, as other notices read.
  const offer = fetchOn && !!task && !allowed && !threadDeleted && (!ended || latest);
  if (!offer && !error) return <p class="item-notice">{item.text}</p>;
  const why = `why-${item.id}`;
  return (
    <div class="web-off">
      <p id={why}>{item.text}</p>
      {offer && (
        <button
          type="button"
          aria-describedby={why}
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            setError(undefined);
            try {
              await request({ type: 'task.allowWebFetch', taskId });
            } catch (e) {
              setError((e as Error).message);
            } finally {
              setBusy(false);
            }
          }}
        >
          {ended ? 'Allow reading web pages and go on' : 'Allow reading web pages for this task'}
        </button>
      )}
      <ErrorText error={error} />
    </div>
  );
}

export function WebStepRow({ item }: { item: ToolItem }) {
  const input = (item.input ?? {}) as { results?: unknown; url?: unknown; title?: unknown };
  const found = item.tool === 'web_search' ? links(input.results) : [];
  const read = item.tool === 'web_fetch' && safe(input.url) ? input.url : undefined;
  return (
    <div class={`tool tool-${item.state} web-step`} data-item={item.id}>
      <div class="tool-head">
        <span class="tool-mark" aria-hidden="true">
          {item.state === 'error' ? '✕' : item.tool === 'web_search' ? '🔎' : '📄'}
        </span>
        <span class="tool-summary">{visibleText(item.summary)}</span>
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
