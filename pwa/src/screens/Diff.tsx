// What a task changed in one file, before → after: the host's unified-diff hunks (task.diff), shown
// as wrapped lines with removed and added marked by colour, sign and (for screen readers) words.
import { useEffect, useState } from 'preact/hooks';
import type { DiffHunk, FileDiff } from '../../../shared/src/index.js';
import { visibleCode, visibleText } from '../../../shared/src/visible-text.js';
import { request } from '../conn/connection.js';
import { isRefusal } from '../conn/types.js';
import { shownPath } from '../lib/approval-words.js';
import { bytes } from '../lib/format.js';
import { back, hrefFor } from '../lib/route.js';
import { connStore } from '../state/app.js';
import { useStore } from '../state/store.js';
import { ErrorText, Header, IconButton } from '../ui/common.js';
import { useRootPaths } from './Cards.js';

const plural = (n: number, one: string) => `${n.toLocaleString()} ${one}${n === 1 ? '' : 's'}`;

/** "2 lines added, 1 removed", in the words a person uses. */
function summary(d: Extract<FileDiff, { kind: 'text' }>): string {
  const what = { created: 'New file', changed: 'Changed', deleted: 'Moved to the trash' }[d.change];
  const parts = [];
  if (d.added) parts.push(`${plural(d.added, 'line')} added`);
  if (d.removed) parts.push(`${d.added ? d.removed.toLocaleString() : plural(d.removed, 'line')} removed`);
  return parts.length ? `${what}: ${parts.join(', ')}.` : `${what}: no line differs.`;
}

function Hunk({ hunk }: { hunk: DiffHunk }) {
  let oldNo = hunk.oldStart;
  let newNo = hunk.newStart;
  const rows = hunk.lines.map((l, i) => {
    const sign = l[0];
    // What a person reviews shows what would make a line read otherwise than it runs.
    const text = visibleCode(l.slice(1));
    const no = sign === '-' ? oldNo++ : newNo++;
    if (sign === ' ') oldNo++;
    const kind = sign === '+' ? 'add' : sign === '-' ? 'del' : 'same';
    return (
      <div key={i} class={`dl dl-${kind}`}>
        <span class="dl-no" aria-hidden="true">
          {no}
        </span>
        <span class="dl-sign" aria-hidden="true">
          {sign === '+' ? '+' : sign === '-' ? '−' : ''}
        </span>
        {kind === 'add' ? (
          <ins>
            <span class="sr-only">Added: </span>
            {text}
          </ins>
        ) : kind === 'del' ? (
          <del>
            <span class="sr-only">Removed: </span>
            {text}
          </del>
        ) : (
          <span class="dl-text">{text}</span>
        )}
      </div>
    );
  });
  const first = hunk.lines[0]?.[0] === '-' ? hunk.oldStart : hunk.newStart;
  return (
    <section class="hunk" aria-label={`From line ${first}`}>
      <p class="hunk-head">Line {first.toLocaleString()}</p>
      <div class="hunk-lines">{rows}</div>
    </section>
  );
}

function View({ diff, fileHref }: { diff: FileDiff; fileHref: string }) {
  switch (diff.kind) {
    case 'text':
      return (
        <>
          <p class="diff-summary">{summary(diff)}</p>
          {diff.changedSince && <p class="muted">The file changed after the task; this shows it as it is now.</p>}
          {diff.hunks.map((h, i) => (
            <Hunk key={i} hunk={h} />
          ))}
        </>
      );
    case 'binary':
      return (
        <p class="muted">
          This file ({bytes(diff.size)}) is not text, so its changes can't be shown line by line.{' '}
          {diff.change !== 'deleted' && <a href={fileHref}>Open the file</a>}
        </p>
      );
    case 'too_large':
      return (
        <p class="muted">
          {diff.reason === 'size'
            ? `This file (${bytes(diff.size)}) is too large to show its changes on the phone.`
            : 'Too many lines changed to show here.'}{' '}
          {diff.change !== 'deleted' && <a href={fileHref}>Open the file</a>}
        </p>
      );
    case 'undone':
      return <p class="muted">The task's changes to this file were undone.</p>;
    case 'moved':
      return <p class="muted">The task moved this file here from {diff.from}, without changing it.</p>;
  }
}

export default function DiffScreen({ threadId, taskId, path }: { threadId: string; taskId: string; path: string }) {
  const online = useStore(connStore, (c) => c.status === 'online');
  const roots = useRootPaths();
  const [diff, setDiff] = useState<FileDiff>();
  const [error, setError] = useState<string>();
  const [refused, setRefused] = useState(false);
  useEffect(() => {
    if (!online || diff || refused) return;
    setError(undefined);
    request({ type: 'task.diff', taskId, path }).then(
      (r) => setDiff(r.diff),
      (e: Error) => {
        setRefused(isRefusal(e));
        setError(e.message);
      },
    );
  }, [taskId, path, online]);
  // A link from any web page can open this screen with words of its choosing as the path: the header
  // names the file only from the computer's answer, never from the link alone. Shown only (title,
  // labels): hidden and direction characters as markers; requests keep `path`.
  const name = diff && visibleText(diff.path.split('/').pop() || diff.path);
  const fileHref = hrefFor({ name: 'file', threadId, taskId, path });
  return (
    <div class="screen">
      <Header
        title={name ?? 'Changes'}
        sub={diff && <span class="path">Changes · {shownPath(diff.path, roots)}</span>}
        left={<IconButton icon="back" label="Back" onClick={() => back({ name: 'thread', id: threadId })} />}
      />
      <main class="diff pad" aria-label={name ? `Changes to ${name}` : 'Changes'}>
        <ErrorText error={error} />
        {diff ? (
          <View diff={diff} fileHref={fileHref} />
        ) : (
          !error && (
            <p class="muted">{online ? 'Loading…' : 'The changes will load when your computer is reachable.'}</p>
          )
        )}
      </main>
    </div>
  );
}
