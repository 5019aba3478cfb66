import { useRef } from 'preact/hooks';
import { visibleProse, visibleText } from '../../../shared/src/visible-text.js';
import { refresh } from '../conn/connection.js';
import { outboxStore } from '../conn/outbox.js';
import { failureWords } from '../lib/failure-words.js';
import { shortTime } from '../lib/format.js';
import { plainLine } from '../lib/plain.js';
import { hrefFor, navigate } from '../lib/route.js';
import { appStore } from '../state/app.js';
import { isUnread, threadsSorted } from '../state/model.js';
import { useStore } from '../state/store.js';
import { Header, Icon, IconButton, StateChip } from '../ui/common.js';
import { usePullToRefresh } from '../ui/pull-to-refresh.js';

export function ThreadsScreen() {
  const state = useStore(appStore, (s) => s);
  const outbox = useStore(outboxStore, (o) => o);
  const threads = threadsSorted(state);
  const pendingNew = outbox.filter((e) => e.type === 'thread.create');
  const list = useRef<HTMLElement>(null);
  const pull = usePullToRefresh(list, refresh);
  return (
    <div class="screen">
      <Header
        title="Errand"
        left={<IconButton icon="clock" label="Schedules" onClick={() => navigate({ name: 'schedules' })} />}
        right={<IconButton icon="gear" label="Settings" onClick={() => navigate({ name: 'settings' })} />}
      />
      <main class="list" aria-label="Threads" ref={list}>
        {pull.phase !== 'idle' && (
          <p
            class="pull-status"
            role="status"
            style={pull.phase === 'pulling' ? { height: `${pull.distance}px` } : undefined}
          >
            {pull.phase === 'refreshing' ? 'Refreshing…' : pull.ready ? 'Release to refresh' : 'Pull to refresh'}
          </p>
        )}
        {threads.length === 0 && pendingNew.length === 0 && (
          <div class="empty">
            <p>No threads yet.</p>
            <p class="muted">
              Tap <strong>New task</strong> and tell your computer what to do.
            </p>
          </div>
        )}
        <ul class="threads">
          {pendingNew.map((e) => (
            <li key={e.id}>
              <a
                class="thread-row"
                href={hrefFor({ name: 'thread', id: `pending:${e.id}` })}
                aria-label={`New task, ${e.state === 'failed' ? 'not sent' : 'waiting to send'}`}
              >
                <div class="row-top">
                  <span class="row-title">{e.text.split('\n')[0].slice(0, 80)}</span>
                </div>
                <div class="row-bottom">
                  <span class={`chip ${e.state === 'failed' ? 'chip-failed' : 'chip-queued'}`}>
                    {e.state === 'failed' ? 'Not sent' : 'Waiting to send'}
                  </span>
                </div>
              </a>
            </li>
          ))}
          {threads.map((t) => {
            const unread = isUnread(state, t);
            // The model's words or the person's: hidden characters (tag text) shown as markers.
            const title = visibleProse(t.title) || 'Untitled';
            return (
              <li key={t.id}>
                <a
                  class={`thread-row${unread ? ' unread' : ''}`}
                  href={hrefFor({ name: 'thread', id: t.id })}
                  aria-label={`${title}${unread ? ', unread' : ''}`}
                >
                  <div class="row-top">
                    {unread && <span class="dot" aria-hidden="true" />}
                    <span class="row-title">{title}</span>
                    <time class="row-time" dateTime={new Date(t.updatedAt).toISOString()}>
                      {shortTime(t.updatedAt)}
                    </time>
                  </div>
                  <div class="row-bottom">
                    {(t.urgentState ?? t.lastTaskState) && <StateChip state={(t.urgentState ?? t.lastTaskState)!} />}
                    <span class="row-line">
                      {/* The model's words or a file's name: hidden and direction characters as markers. */}
                      {visibleText(
                        t.lastTaskState === 'failed' ? failureWords(t.lastLine).sentence : plainLine(t.lastLine),
                      )}
                    </span>
                  </div>
                </a>
              </li>
            );
          })}
        </ul>
      </main>
      <button type="button" class="fab" aria-label="New task" onClick={() => navigate({ name: 'new' })}>
        <Icon name="plus" /> <span>New task</span>
      </button>
    </div>
  );
}
