// One line of Markdown as plain words, for previews (the thread list): no `**`, `##`, `>` or link syntax.
export function plainLine(md: string): string {
  // Escaped characters are set aside first (as private-use code points) so they stay literal.
  return md
    .replace(/\\([\\`*_{}[\]()#+\-.!~|>])/g, (_, c: string) => String.fromCharCode(0xe000 + c.charCodeAt(0)))
    .replace(/^\s{0,3}(#{1,6}\s+|>\s?|[-*+]\s+(\[[ xX]\]\s+)?|\d{1,9}[.)]\s+)/, '')
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/(\*\*|__|~~)(?=\S)(.*?\S)\1/g, '$2')
    .replace(/(?<![\w*])\*(?=[^\s*])(.*?[^\s*])\*(?![\w*])/g, '$1')
    .replace(/(?<![A-Za-z0-9_])_(?=[^\s_])(.*?[^\s_])_(?![A-Za-z0-9_])/g, '$1')
    .replace(/`+([^`]*)`+/g, '$1')
    .replace(/^\s*\|(.*)\|\s*$/, (_, row: string) =>
      row
        .split('|')
        .map((c) => c.trim())
        .filter(Boolean)
        .join(' · '),
    )
    .replace(/[\ue000-\ue07f]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xe000))
    .trim();
}
