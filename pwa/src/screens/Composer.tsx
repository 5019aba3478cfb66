import { useRef, useState } from 'preact/hooks';
import type { Question } from '../../../shared/src/index.js';
import { request } from '../conn/connection.js';
import { enqueue } from '../conn/outbox.js';
import { bytes } from '../lib/format.js';
import { Icon, IconButton } from '../ui/common.js';

const MAX_FILES = 20;

export function Composer({
  threadId,
  onQueued,
  autoFocus,
  placeholder,
  answering,
}: {
  threadId?: string;
  onQueued?(id: string): void;
  autoFocus?: boolean;
  placeholder?: string;
  /** An open question from the agent: what is typed here answers it instead of queueing a task. */
  answering?: Question;
}) {
  const [text, setText] = useState('');
  const [files, setFiles] = useState<File[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const fileInput = useRef<HTMLInputElement>(null);

  const send = async () => {
    const t = text.trim();
    if (!t || busy) return;
    setBusy(true);
    setError(undefined);
    if (answering) {
      try {
        await request({ type: 'task.answer', taskId: answering.taskId, questionId: answering.id, text: t });
        setText('');
      } catch (err) {
        setError((err as Error).message);
      } finally {
        setBusy(false);
      }
      return;
    }
    try {
      const e = await enqueue({ threadId, text: t, files });
      setText('');
      setFiles([]);
      onQueued?.(e.id);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
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
                onClick={() => setFiles(files.filter((_, j) => j !== i))}
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
            setFiles((cur) => [...cur, ...picked].slice(0, MAX_FILES));
            e.currentTarget.value = '';
          }}
        />
        <textarea
          class="composer-input"
          aria-label={answering ? 'Reply to the question' : 'Message'}
          placeholder={answering ? 'Answer your computer’s question…' : (placeholder ?? 'Message your computer…')}
          rows={autoFocus ? 4 : 1}
          value={text}
          autoFocus={autoFocus}
          maxLength={100_000}
          onInput={(e) => setText(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              void send();
            }
          }}
        />
        <button
          type="submit"
          class="send-btn"
          aria-label={answering ? 'Reply' : 'Send'}
          disabled={!text.trim() || busy}
        >
          <Icon name="send" />
        </button>
      </div>
    </form>
  );
}
