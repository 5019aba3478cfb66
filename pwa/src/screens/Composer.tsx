import { useRef, useState } from 'preact/hooks';
import { enqueue } from '../conn/outbox.js';
import { bytes } from '../lib/format.js';
import { Icon, IconButton } from '../ui/common.js';

const MAX_FILES = 20;

export function Composer({
  threadId,
  onQueued,
  autoFocus,
  placeholder,
}: {
  threadId?: string;
  onQueued?(id: string): void;
  autoFocus?: boolean;
  placeholder?: string;
}) {
  const [text, setText] = useState('');
  const [files, setFiles] = useState<File[]>([]);
  const [busy, setBusy] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);

  const send = async () => {
    const t = text.trim();
    if (!t || busy) return;
    setBusy(true);
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
      {files.length > 0 && (
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
        <IconButton icon="clip" label="Attach files" onClick={() => fileInput.current?.click()} />
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
          aria-label="Message"
          placeholder={placeholder ?? 'Message your computer…'}
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
        <button type="submit" class="send-btn" aria-label="Send" disabled={!text.trim() || busy}>
          <Icon name="send" />
        </button>
      </div>
    </form>
  );
}
