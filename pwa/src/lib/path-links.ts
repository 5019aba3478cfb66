// File paths in an answer become links to the file viewer: a `code` or **bold** span whose whole
// text names a file the task produced (by its path, its path within its folder, or its name when
// that is unique) opens that file. Nothing else in the answer changes.
import { type ComponentChildren, cloneElement, h, isValidElement, type VNode } from 'preact';

/** What a span's text may be, for each produced file: its path, its path within its folder, its name. */
export function pathTargets(files: Array<{ path: string; rel: string }>): Map<string, string> {
  const byText = new Map<string, string>();
  const names = new Map<string, number>();
  for (const f of files) {
    const name = f.rel.split('/').pop() ?? f.rel;
    names.set(name, (names.get(name) ?? 0) + 1);
  }
  for (const f of files) {
    byText.set(f.path, f.path);
    byText.set(f.rel, f.path);
    const name = f.rel.split('/').pop() ?? f.rel;
    if (names.get(name) === 1) byText.set(name, f.path);
  }
  return byText;
}

const LINKABLE = new Set(['code', 'strong']);

export function linkPaths(
  node: ComponentChildren,
  hrefFor: (path: string) => string,
  targets: Map<string, string>,
): ComponentChildren {
  if (!targets.size) return node;
  const walk = (n: ComponentChildren): ComponentChildren => {
    if (Array.isArray(n)) return n.map(walk);
    if (!isValidElement(n)) return n;
    const v = n as VNode<{ children?: ComponentChildren }>;
    if (v.type === 'pre' || v.type === 'a') return v; // code blocks and links stay as they are
    const children = v.props.children;
    // Inline Markdown gives a span's text as a one-string array.
    const only = Array.isArray(children) && children.length === 1 ? children[0] : children;
    if (typeof v.type === 'string' && LINKABLE.has(v.type) && typeof only === 'string') {
      const text = only.trim();
      const path = targets.get(text);
      if (!path) return v;
      return h('a', { key: v.key, class: 'path-link', href: hrefFor(path), 'aria-label': `Open ${text}` }, v);
    }
    return children === undefined ? v : cloneElement(v, {}, walk(children));
  };
  return walk(node);
}
