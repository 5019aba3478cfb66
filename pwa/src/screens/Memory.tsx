// Settings → Memory: what the agent remembers across threads (its /memories files: read, edit,
// delete one, clear all) and the personal instructions it reads in every task.
import { useEffect, useState } from 'preact/hooks';
import type { MemoryEntry, MemoryListResult } from '../../../shared/src/index.js';
import { visibleText } from '../../../shared/src/visible-text.js';
import { request } from '../conn/connection.js';
import { memoryListWords, memoryWriterWords } from '../lib/memory-words.js';
import { back, hrefFor } from '../lib/route.js';
import { connStore } from '../state/app.js';
import { useStore } from '../state/store.js';
import { ErrorText, Header, IconButton } from '../ui/common.js';
import { refocusWhenGone } from '../ui/focus.js';

// Replies are checked against their schemas (shared results.ts) before they get here; `total` and
// `truncated` are optional (an older daemon sends neither).
type ListResult = MemoryListResult;

/** A memory file's name as shown: the model chose it, so hidden and direction marks are made visible. */
const short = (p: string) => visibleText(p.replace(/^\/memories\//, ''));

/** Where focus goes once a deleted file's row, or the cleared list, has gone. */
const memoryHeading = () => [document.querySelector<HTMLElement>('#m-mem')];

/** "Saved by a task in <thread>", "Saved on <device>", "Changed outside Errand": who last wrote it. */
function Writer({ entry }: { entry: MemoryEntry }) {
  const thisDevice = useStore(connStore, (c) => c.device?.id);
  const words = memoryWriterWords(entry.writtenBy, thisDevice);
  if (!words) return null;
  return (
    <p class={words.byTask ? 'memory-author by-task' : 'memory-author'}>
      {words.text}
      {words.thread && <a href={hrefFor({ name: 'thread', id: words.thread.id })}>{words.thread.title}</a>}
    </p>
  );
}

function Entry({ entry, onGone }: { entry: MemoryEntry; onGone: () => void }) {
  const [text, setText] = useState<string>();
  const [saved, setSaved] = useState<string>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [confirm, setConfirm] = useState(false);
  const open = text !== undefined;
  const load = () =>
    request({ type: 'memory.get', path: entry.path }).then(
      (r) => {
        setText(r.text);
        setSaved(r.text);
      },
      (e: Error) => setError(e.message),
    );
  const save = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await request({ type: 'memory.put', path: entry.path, text: text ?? '' });
      setSaved(text);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    setBusy(true);
    try {
      await request({ type: 'memory.delete', path: entry.path });
      onGone();
      refocusWhenGone(memoryHeading);
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
    }
  };
  return (
    <li class="memory-entry" data-path={entry.path}>
      <button
        type="button"
        class="memory-name"
        aria-expanded={open}
        onClick={() => (open ? setText(undefined) : void load())}
      >
        {short(entry.path)} <span class="muted">({entry.bytes === 1 ? '1 byte' : `${entry.bytes} bytes`})</span>
      </button>
      <Writer entry={entry} />
      {open && (
        <div class="memory-edit">
          <textarea
            aria-label={`Text of ${short(entry.path)}`}
            rows={8}
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
          />
          <div class="row">
            {/* Not disabled once saved: the button keeps focus (a disabled one drops it to the page's top). */}
            <button
              type="button"
              aria-disabled={busy || text === saved}
              onClick={() => {
                if (!busy && text !== saved) void save();
              }}
            >
              {text === saved ? 'Saved' : 'Save'}
            </button>
            {confirm ? (
              <button type="button" class="danger" disabled={busy} onClick={() => void remove()}>
                Delete {short(entry.path)} now
              </button>
            ) : (
              <button type="button" onClick={() => setConfirm(true)}>
                Delete
              </button>
            )}
          </div>
        </div>
      )}
      <ErrorText error={error} />
    </li>
  );
}

function PersonalInstructions({ online }: { online: boolean }) {
  const [text, setText] = useState<string>();
  const [saved, setSaved] = useState<string>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    if (!online) return;
    request({ type: 'instructions.get' }).then(
      (r) => {
        setText(r.text);
        setSaved(r.text);
      },
      (e: Error) => setError(e.message),
    );
  }, [online]);
  // Said once a save lands (the button's own new name, "Saved", is not announced while it has focus).
  const [justSaved, setJustSaved] = useState(false);
  const save = () =>
    request({ type: 'instructions.put', text: text ?? '' }).then(
      () => {
        setSaved(text);
        setJustSaved(true);
      },
      (e: Error) => setError(e.message),
    );
  return (
    <section class="card" aria-labelledby="m-instr">
      <h2 id="m-instr">Personal instructions</h2>
      <p class="muted">
        The agent reads these in every task (with CLAUDE.md and AGENTS.md of the folders it works in).
      </p>
      {text === undefined && !error && (
        <p class="muted">{online ? 'Loading…' : 'Shown when your computer is reachable.'}</p>
      )}
      {text !== undefined && (
        <>
          <textarea
            aria-label="Personal instructions"
            rows={6}
            value={text}
            placeholder="For example: write reports in Markdown; my time zone is Lisbon."
            onInput={(e) => {
              setText(e.currentTarget.value);
              setJustSaved(false);
            }}
          />
          {/* Not disabled once saved: the button keeps focus (a disabled one drops it to the page's top). */}
          <button
            type="button"
            aria-disabled={text === saved}
            onClick={() => {
              if (text !== saved) void save();
            }}
          >
            {text === saved ? 'Saved' : 'Save instructions'}
          </button>
          <span class="offscreen" role="status">
            {justSaved ? 'Instructions saved.' : ''}
          </span>
        </>
      )}
      <ErrorText error={error} />
    </section>
  );
}

export default function MemoryScreen() {
  const online = useStore(connStore, (c) => c.status === 'online');
  const [list, setList] = useState<ListResult>();
  const [error, setError] = useState<string>();
  const [confirmClear, setConfirmClear] = useState(false);
  const words = list && memoryListWords(list);
  const reload = () =>
    request({ type: 'memory.list' }).then(
      (r) => setList(r),
      (e: Error) => setError(e.message),
    );
  useEffect(() => {
    if (online) void reload();
  }, [online]);
  const clear = async () => {
    try {
      await request({ type: 'memory.clear' });
      setConfirmClear(false);
      await reload();
      refocusWhenGone(memoryHeading);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <div class="screen">
      <Header title="Memory" left={<IconButton icon="back" label="Back" onClick={() => back()} />} />
      <main class="pad settings memory">
        <section class="card" aria-labelledby="m-mem">
          <h2 id="m-mem">What the agent remembers</h2>
          {!list && !error && <p class="muted">{online ? 'Loading…' : 'Shown when your computer is reachable.'}</p>}
          {list && !list.enabled && (
            <p class="muted">
              Memory is off on your computer (memory.enabled = false): the agent neither reads nor writes it.
            </p>
          )}
          {list && list.entries.length === 0 && (
            <p class="muted">Nothing yet. The agent keeps notes here across threads.</p>
          )}
          {/* Above the list: a cut list of a thousand is not scrolled to its end. */}
          {words?.showing && <p class="muted memory-showing">{words.showing}</p>}
          {list && list.entries.length > 0 && (
            <ul class="memory-list">
              {list.entries.map((e) => (
                <Entry key={e.path} entry={e} onGone={() => void reload()} />
              ))}
            </ul>
          )}
          {words &&
            words.total > 0 &&
            (confirmClear ? (
              <button type="button" class="danger" onClick={() => void clear()}>
                {words.clearAll}
              </button>
            ) : (
              <button type="button" onClick={() => setConfirmClear(true)}>
                Clear all memory
              </button>
            ))}
          <ErrorText error={error} />
        </section>
        <PersonalInstructions online={online} />
      </main>
    </div>
  );
}
