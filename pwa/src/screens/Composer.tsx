import { useEffect, useRef, useState } from 'preact/hooks';
import type { Approval, Question } from '../../../shared/src/index.js';
import { request } from '../conn/connection.js';
import { enqueue, enqueueAnswer, enqueueDecision } from '../conn/outbox.js';
import { clearDraft, draftKey, loadDraftFiles, loadDraftText, saveDraftFiles, saveDraftText } from '../lib/drafts.js';
import { bytes } from '../lib/format.js';
import { Icon, IconButton } from '../ui/common.js';
import { refocusWhenGone } from '../ui/focus.js';
import { useCommandError } from './Cards.js';

const MAX_FILES = 20;
/** What a denial's note may hold (approval.decide). */
const MAX_NOTE = 4000;
const HINT_ID = 'composer-hint';

export function Composer({
  threadId,
  onQueued,
  autoFocus,
  placeholder,
  answering,
  denying,
  stoppable,
  onSent,
}: {
  threadId?: string;
  onQueued?(id: string): void;
  autoFocus?: boolean;
  placeholder?: string;
  /**
   * An open question from the agent: what is typed here answers it instead of queueing a task. The
   * answer goes through the outbox like a message: written offline, it is sent once the computer is back.
   */
  answering?: Question;
  /**
   * An action waiting for approval (and no open question): what is typed here denies it and tells
   * the agent what to do instead, so "stop, only list them" reaches the task before anything runs.
   */
  denying?: Approval;
  /** A task of this thread is working: the composer offers to stop it. */
  stoppable?: string;
  /** Called after a message or an answer went out (the thread scrolls to it). */
  onSent?(): void;
}) {
  const key = draftKey(threadId);
  const [text, setText] = useState(() => loadDraftText(key));
  const [files, setFiles] = useState<File[]>([]);
  const [busy, setBusy] = useState(false);
  const [stopping, setStopping] = useState(false);
  const [error, setError] = useCommandError();
  const fileInput = useRef<HTMLInputElement>(null);
  const form = useRef<HTMLFormElement>(null);
  const input = useRef<HTMLTextAreaElement>(null);
  // What is typed denies the waiting action; with files attached it is a message of its own (a
  // denial carries words only, up to MAX_NOTE: longer ones are a message too).
  const denial = denying && !files.length && text.trim().length <= MAX_NOTE ? denying : undefined;
  /** Files chosen on this screen before the saved draft's files were read: the draft must not replace them. */
  const filesTouched = useRef(false);
  // The draft of this thread (another thread's composer may have been on screen before).
  useEffect(() => {
    setText(loadDraftText(key));
    filesTouched.current = false;
    let live = true;
    void loadDraftFiles(key).then((f) => {
      if (live && !filesTouched.current) setFiles(f);
    });
    return () => {
      live = false;
    };
  }, [key]);
  const changeText = (t: string) => {
    setText(t);
    saveDraftText(key, t);
  };
  const changeFiles = (f: File[]) => {
    filesTouched.current = true;
    setFiles(f);
    void saveDraftFiles(key, f);
  };
  const stop = async () => {
    if (!stoppable || stopping) return;
    // Stop goes once the task has ended: focus then goes to that task's state line (it says how the
    // task ended), else the message box; never back to the top of the page.
    const taskId = stoppable;
    refocusWhenGone(() => [
      form.current
        ?.closest('.screen')
        ?.querySelector<HTMLElement>(`.task-group[data-task="${CSS.escape(taskId)}"] .task-footer .task-line`),
      input.current,
    ]);
    setStopping(true);
    setError();
    try {
      await request({ type: 'task.cancel', taskId: stoppable });
    } catch (err) {
      setError(err);
    } finally {
      setStopping(false);
    }
  };

  const send = async () => {
    const t = text.trim();
    if (!t || busy) return;
    // Sent from the Send (or Reply) button with the keyboard: the button is disabled once the box is
    // empty, which would drop focus to <body>. The message box takes it, ready for the next message.
    const focused = document.activeElement;
    if (focused !== input.current && form.current?.contains(focused)) input.current?.focus();
    setBusy(true);
    setError();
    // An answer to the open question, or the waiting action's denial with these words: through the
    // outbox like a message (written offline, sent once the computer is back).
    const respond = answering
      ? () =>
          enqueueAnswer({ threadId: answering.threadId, taskId: answering.taskId, questionId: answering.id, text: t })
      : denial
        ? () =>
            enqueueDecision({
              threadId: denial.threadId,
              approvalId: denial.id,
              hash: denial.hash,
              decision: 'deny',
              summary: denial.summary,
              note: t,
            })
        : undefined;
    if (respond) {
      try {
        await respond();
        changeText('');
        onSent?.();
      } finally {
        setBusy(false);
      }
      return;
    }
    try {
      const e = await enqueue({ threadId, text: t, files });
      setText('');
      setFiles([]);
      void clearDraft(key);
      onSent?.();
      onQueued?.(e.id);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      ref={form}
      class="composer"
      aria-label="Compose"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {denying && (
        // Short: the card above shows the action; on a small phone the room is the conversation's.
        <p class="composer-hint" id={HINT_ID}>
          {denial ? 'Sending this denies the action above.' : 'This goes as a new message after the action above.'}
        </p>
      )}
      {files.length > 0 && !answering && (
        <ul class="attachments" aria-label="Attached files">
          {files.map((f, i) => (
            <li key={`${f.name}-${i}`} class="attachment">
              <span>
                {f.name} · {bytes(f.size)}
              </span>
              <IconButton
                icon="close"
                label={`Remove ${f.name}`}
                onClick={() => changeFiles(files.filter((_, j) => j !== i))}
              />
            </li>
          ))}
        </ul>
      )}
      <div class="composer-row">
        {!answering && <IconButton icon="clip" label="Attach files" onClick={() => fileInput.current?.click()} />}
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          aria-label="Choose files to attach"
          onChange={(e) => {
            const picked = [...(e.currentTarget.files ?? [])];
            changeFiles([...files, ...picked].slice(0, MAX_FILES));
            e.currentTarget.value = '';
          }}
        />
        <textarea
          ref={input}
          class="composer-input"
          aria-label={answering ? 'Reply to the question' : 'Message'}
          // While an action waits the names stay ("Deny" names the card's button alone); the hint says what sending does.
          aria-describedby={denying ? HINT_ID : undefined}
          placeholder={
            answering
              ? 'Answer your computer’s question…'
              : denial
                ? 'Reply to deny it…'
                : (placeholder ?? 'Message your computer…')
          }
          rows={autoFocus ? 4 : 1}
          value={text}
          autoFocus={autoFocus}
          maxLength={100_000}
          onInput={(e) => changeText(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              void send();
            }
          }}
        />
        {stoppable && !text.trim() && (
          <button
            type="button"
            class="stop-btn"
            aria-label="Stop the task"
            // Not `disabled`: a disabled button drops focus to <body> while the stop is on its way.
            aria-disabled={stopping}
            onClick={() => void stop()}
          >
            <span class="stop-square" aria-hidden="true" />
          </button>
        )}
        <button
          type="submit"
          class="send-btn"
          aria-label={answering ? 'Reply' : 'Send'}
          aria-describedby={denying ? HINT_ID : undefined}
          disabled={!text.trim() || busy}
          // A tap leaves focus (and the phone's keyboard) in the message box, as in a chat.
          onMouseDown={(e) => e.preventDefault()}
        >
          <Icon name="send" />
        </button>
      </div>
    </form>
  );
}
