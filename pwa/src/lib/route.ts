// Hash routes. The hash never carries a server address: only ids inside this app.
import { createStore } from '../state/store.js';

export type Route =
  | { name: 'list' }
  | { name: 'thread'; id: string }
  | { name: 'file'; threadId: string; taskId: string; path: string }
  | { name: 'diff'; threadId: string; taskId: string; path: string }
  | { name: 'settings' }
  | { name: 'schedules' }
  | { name: 'memory' }
  | { name: 'new' }
  | { name: 'welcome' };

export function parseHash(hash: string): Route {
  const p = new URLSearchParams(hash.replace(/^#\/?/, ''));
  const thread = p.get('thread');
  const task = p.get('task');
  const file = p.get('file');
  const diff = p.get('diff');
  if (thread && task && file) return { name: 'file', threadId: thread, taskId: task, path: file };
  if (thread && task && diff) return { name: 'diff', threadId: thread, taskId: task, path: diff };
  if (thread) return { name: 'thread', id: thread };
  if (p.has('settings')) return { name: 'settings' };
  if (p.has('schedules')) return { name: 'schedules' };
  if (p.has('memory')) return { name: 'memory' };
  if (p.has('new')) return { name: 'new' };
  if (p.has('welcome')) return { name: 'welcome' };
  return { name: 'list' };
}

export function hrefFor(r: Route): string {
  switch (r.name) {
    case 'list':
      return '#';
    case 'thread':
      return `#${new URLSearchParams({ thread: r.id })}`;
    case 'file':
      return `#${new URLSearchParams({ thread: r.threadId, task: r.taskId, file: r.path })}`;
    case 'diff':
      return `#${new URLSearchParams({ thread: r.threadId, task: r.taskId, diff: r.path })}`;
    default:
      return `#${r.name}`;
  }
}

export const routeStore = createStore<Route>(parseHash(typeof location === 'undefined' ? '' : location.hash));

export function navigate(r: Route, replace = false): void {
  const href = hrefFor(r);
  if (replace) {
    history.replaceState(null, '', href === '#' ? location.pathname : href);
    routeStore.set(r);
  } else if (location.hash !== href) {
    location.hash = href;
  }
}

export function back(fallback: Route = { name: 'list' }): void {
  if (navigatedInApp) history.back();
  else navigate(fallback, true);
}

let navigatedInApp = false;

/** Read the pairing code from `#pair=<code>` once, and remove it from the address bar and history. */
export function takePairCode(): string | undefined {
  const p = new URLSearchParams(location.hash.replace(/^#\/?/, ''));
  const code = p.get('pair');
  if (code === null) return undefined;
  history.replaceState(null, '', location.pathname + location.search);
  routeStore.set({ name: 'list' });
  return code;
}

export function startRouting(): void {
  addEventListener('hashchange', () => {
    // A pairing link opened in the app already running: start as that link's fresh load would
    // (the code is read once, at start, before anything connects).
    if (/^#\/?(?:.*&)?pair=/.test(location.hash)) {
      location.reload();
      return;
    }
    navigatedInApp = true;
    routeStore.set(parseHash(location.hash));
  });
}
