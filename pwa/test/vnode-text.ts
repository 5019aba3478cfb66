// Turn Preact vnodes into an HTML-like string for assertions (text is escaped, as the DOM would).
import type { ComponentChildren, VNode } from 'preact';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function toHtml(c: ComponentChildren): string {
  if (c === null || c === undefined || typeof c === 'boolean') return '';
  if (typeof c === 'string' || typeof c === 'number') return esc(String(c));
  if (Array.isArray(c)) return c.map(toHtml).join('');
  const v = c as VNode<Record<string, unknown>>;
  if (typeof v.type !== 'string') throw new Error('components are not expected in rendered markdown');
  const { children, key: _k, ...props } = v.props as Record<string, unknown> & { children?: ComponentChildren };
  const attrs = Object.entries(props)
    .filter(([, x]) => x !== undefined)
    .map(([k, x]) => ` ${k}="${esc(String(x))}"`)
    .join('');
  return `<${v.type}${attrs}>${toHtml(children)}</${v.type}>`;
}
