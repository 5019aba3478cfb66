import { useEffect, useState } from 'preact/hooks';
import type { FileView } from '../../../shared/src/index.js';
import { visibleCode, visibleProse, visibleText } from '../../../shared/src/visible-text.js';
import { request } from '../conn/connection.js';
import { download } from '../conn/http.js';
import { isRefusal } from '../conn/types.js';
import { shownPath } from '../lib/approval-words.js';
import { bytes } from '../lib/format.js';
import { cellClass, renderMarkdown } from '../lib/markdown.js';
import { back } from '../lib/route.js';
import { connStore } from '../state/app.js';
import { useStore } from '../state/store.js';
import { ErrorText, Header, IconButton } from '../ui/common.js';
import { useRootPaths } from './Cards.js';

const IMAGE_TYPES = /^image\/(png|jpeg|gif|webp|avif|bmp)$/;

function Sheet({ rows, truncated }: { rows: string[][]; truncated: boolean }) {
  const [head, ...body] = rows;
  return (
    <div class="table-wrap">
      <table>
        {head && (
          <thead>
            <tr>
              {head.map((c, i) => (
                <th key={i} scope="col">
                  {visibleProse(c)}
                </th>
              ))}
            </tr>
          </thead>
        )}
        <tbody>
          {body.map((r, i) => (
            <tr key={i}>
              {r.map((c, j) => (
                <td key={j} class={cellClass(undefined, c)}>
                  {visibleProse(c)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {truncated && <p class="muted">Only the first rows are shown.</p>}
    </div>
  );
}

function View({ view }: { view: FileView }) {
  const [sheet, setSheet] = useState(0);
  switch (view.kind) {
    case 'markdown':
      return (
        <article class="md file-md">
          {renderMarkdown(view.text)}
          {view.truncated && <p class="muted">The file is longer; download it to see all.</p>}
        </article>
      );
    case 'text':
      return (
        <>
          <pre class="file-text">{visibleCode(view.text)}</pre>
          {view.truncated && <p class="muted">The file is longer; download it to see all.</p>}
        </>
      );
    case 'table': {
      const s = view.sheets[Math.min(sheet, view.sheets.length - 1)];
      return (
        <div>
          {view.sheets.length > 1 && (
            <div class="tabs" role="tablist" aria-label="Sheets">
              {view.sheets.map((x, i) => {
                // The workbook's own words: hidden characters shown as markers, as in its cells.
                const name = visibleProse(x.name);
                return (
                  <button
                    key={x.name}
                    type="button"
                    role="tab"
                    aria-selected={i === sheet}
                    aria-label={`Sheet ${name}`}
                    // The whole name where the tab cuts it short.
                    title={name}
                    onClick={() => setSheet(i)}
                  >
                    {name}
                  </button>
                );
              })}
            </div>
          )}
          {s ? <Sheet rows={s.rows} truncated={s.truncated} /> : <p class="muted">Empty workbook.</p>}
        </div>
      );
    }
    case 'image':
      return IMAGE_TYPES.test(view.mediaType) ? (
        <img class="file-img" alt={visibleText(view.name)} src={`data:${view.mediaType};base64,${view.dataBase64}`} />
      ) : (
        <p class="muted">This image type is not shown here; download it instead.</p>
      );
    case 'binary':
      return (
        <p class="muted">
          This file ({bytes(view.size)}) can't be shown on the phone. Download it to open it with another app.
        </p>
      );
  }
}

export default function FileScreen({ taskId, path }: { taskId: string; path: string }) {
  const online = useStore(connStore, (c) => c.status === 'online');
  const [view, setView] = useState<FileView>();
  const [error, setError] = useState<string>();
  const [refused, setRefused] = useState(false);
  // Where it is, from the folder you shared (as on the diff and the result card), not the host's full path.
  const roots = useRootPaths();
  useEffect(() => {
    if (!online || view || refused) return;
    setError(undefined);
    request({ type: 'task.file', taskId, path }).then(
      (r) => setView(r.file),
      (e: Error) => {
        setRefused(isRefusal(e));
        setError(e.message);
      },
    );
  }, [taskId, path, online]);
  // A link from any web page can open this screen with words of its choosing as the path: the header
  // names the file only once the computer has answered with it, never from the link alone. Hidden
  // and direction characters show as markers; the download keeps the real name (the file's own).
  const shownName = view && visibleText(view.name);
  const dl = () => download(taskId, path, view!.name).catch((e: Error) => setError(e.message));
  return (
    <div class="screen">
      <Header
        title={shownName ?? 'File'}
        sub={view && <span class="path">{shownPath(path, roots)}</span>}
        left={<IconButton icon="back" label="Back" onClick={() => back()} />}
        right={view && <IconButton icon="download" label={`Download ${shownName}`} onClick={() => void dl()} />}
      />
      <main class="file pad" aria-label={shownName ? `File ${shownName}` : 'File'}>
        <ErrorText error={error} />
        {view ? (
          <View view={view} />
        ) : (
          !error && <p class="muted">{online ? 'Loading…' : 'The file will load when your computer is reachable.'}</p>
        )}
      </main>
    </div>
  );
}
