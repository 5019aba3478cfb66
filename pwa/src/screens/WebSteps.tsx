// Web research steps (the API's web search and web fetch) and the sources an answer cites. Their
// titles and links come from web pages: plain text, and only http(s) links are made clickable.
import type { ThreadItem } from '../../../shared/src/index.js';

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
