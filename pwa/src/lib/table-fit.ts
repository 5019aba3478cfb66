// A Markdown table too wide for the screen even with every column at its narrowest has to scroll
// sideways. At that narrowest, a column of prose read one word a line (a 5-column table at 320 px:
// every column 72 px, a row 194 px tall). Such a table is marked `data-wide` and laid out at its
// natural width instead, prose wrapping at a readable measure (styles.css). A table that fits by
// wrapping keeps doing so: made that wide, it would scroll for nothing.
//
// Whether it fits is the browser's own table layout, measured: a column count or a text length cannot
// tell (a date, an amount or a path widens its column). The renderer makes plain vnodes, so this is a
// ref function: one observer serves every table, in messages and in files.

/** A wide table's width at its narrowest, measured when it had to widen: it fits again from there. */
const narrowest = new WeakMap<Element, number>();
const due = new Set<HTMLElement>();
let watch: ResizeObserver | undefined;

function refit(wrap: HTMLElement): void {
  const table = wrap.querySelector('table');
  if (!table || !wrap.isConnected) return;
  if (!wrap.hasAttribute('data-wide')) {
    if (table.offsetWidth <= wrap.clientWidth) return;
    narrowest.set(wrap, table.offsetWidth);
    wrap.setAttribute('data-wide', '');
  } else if (wrap.clientWidth >= (narrowest.get(wrap) ?? 0)) {
    // Room enough now (a phone turned sideways): the next report measures it again.
    wrap.removeAttribute('data-wide');
  }
}

function observer(): ResizeObserver {
  watch ??= new ResizeObserver((entries) => {
    if (!due.size) requestAnimationFrame(refitDue);
    for (const e of entries) {
      const wrap = e.target.closest<HTMLElement>('.table-wrap');
      if (wrap) due.add(wrap);
    }
  });
  return watch;
}

// In the next frame, not in the observer's callback: a change there is a size change the observer
// would have to report again in the same frame (the browser's "ResizeObserver loop" error).
function refitDue(): void {
  for (const wrap of due) refit(wrap);
  due.clear();
}

/**
 * The ref of a table's scrolling wrapper (its first child is the table). Measured at once, so a
 * finished answer is drawn wide from its first frame, and again whenever it or its table changes size
 * (rows streaming in, the phone turned); no longer watched once gone.
 */
export function fitTable(wrap: HTMLElement | null): (() => void) | undefined {
  if (!wrap || typeof ResizeObserver === 'undefined') return undefined;
  refit(wrap);
  const watching = observer();
  const table = wrap.querySelector('table');
  watching.observe(wrap);
  if (table) watching.observe(table);
  return () => {
    watching.unobserve(wrap);
    if (table) watching.unobserve(table);
    due.delete(wrap);
  };
}
