// The Copy button on code blocks in rendered Markdown. The renderer only makes plain vnodes (no
// handlers), so one click listener on the document serves every block, in messages and in files.
let installed = false;

export function installCopyCode(): void {
  if (installed || typeof document === 'undefined') return;
  installed = true;
  document.addEventListener('click', (e) => {
    const btn = (e.target as Element | null)?.closest?.('button.copy-code');
    const code = btn?.parentElement?.querySelector('pre code');
    if (!btn || !code) return;
    void copy(code.textContent ?? '').then((ok) => {
      btn.textContent = ok ? 'Copied' : 'Copy failed';
      setTimeout(() => {
        btn.textContent = 'Copy';
      }, 2000);
    });
  });
}

async function copy(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Over plain http on the LAN there is no clipboard API: copy through a selected text area.
    const ta = document.createElement('textarea');
    ta.value = text;
    ta.setAttribute('readonly', '');
    ta.className = 'offscreen';
    document.body.append(ta);
    ta.select();
    const ok = document.execCommand('copy');
    ta.remove();
    return ok;
  }
}
