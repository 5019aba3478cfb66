// A link's words are chosen by the model (or by a web page it read): an answer could show
// "https://bank.example.com/login" over a link to evil.example.net, or draw a fake "Approve" that
// opens the attacker's page. Every link whose text does not already start with where it goes shows
// that destination beside its text, inside the link and drawn left to right on its own.
import { describe, expect, it } from 'vitest';
import { hiddenDestination, renderMarkdown } from '../src/lib/markdown.js';
import { toHtml } from './vnode-text.js';

const md = (s: string) => toHtml(renderMarkdown(s));
const note = (host: string) => `<bdo dir="ltr" class="link-host"> (${host})</bdo>`;

describe('links in model text show where they go', () => {
  it('a URL over a link to another host shows the real host, and is one link, not a link in a link', () => {
    expect(md('[https://bank.example.com/login](https://evil.example.net/phish)')).toBe(
      '<p><a href="https://evil.example.net/phish" rel="noopener noreferrer nofollow" target="_blank">' +
        `<span>https://bank.example.com/login</span>${note('evil.example.net')}</a></p>`,
    );
    expect(md('[**see https://bank.example.com**](https://evil.example.net/)').match(/<a /g)).toHaveLength(1);
  });

  it('a fake Approve / Deny drawn in an answer says where each tap goes', () => {
    const out = md(
      '> Needs your OK\n>\n> [Approve](https://evil.example.net/ok) [**Deny**](https://evil.example.net/no)',
    );
    expect(out).toContain(`>Approve${note('evil.example.net')}</a>`);
    expect(out).toContain(`><strong>Deny</strong>${note('evil.example.net')}</a>`);
  });

  it('a mail link with other words shows the address', () => {
    expect(md('[write to support](mailto:thief@evil.example.net)')).toContain(
      `>write to support${note('thief@evil.example.net')}</a>`,
    );
  });

  it('text that already starts with the destination gets no note', () => {
    expect(md('see https://example.com/a?b=1')).not.toContain('link-host');
    expect(md('<https://example.com/x>')).not.toContain('link-host');
    expect(md('[example.com/prices](https://example.com/prices)')).not.toContain('link-host');
    expect(md('[https://Example.com:8443/x](https://example.com:8443/x)')).not.toContain('link-host');
    expect(md('[support@example.com](mailto:support@example.com)')).not.toContain('link-host');
  });

  it('a host that only begins like the real one, or hides behind user info, is not taken for it', () => {
    expect(hiddenDestination('https://bank.example.com@evil.net/', 'https://bank.example.com@evil.net/')).toBe(
      'evil.net',
    );
    expect(hiddenDestination('evil.net.bank.example.com', 'https://evil.net/')).toBe('evil.net');
    expect(hiddenDestination('evil.net:login@bank.example.com', 'https://evil.net/')).toBe('evil.net');
    // A look-alike letter shows as the host the browser goes to (punycode).
    expect(hiddenDestination('https://b\u0430nk.example.com', 'https://b\u0430nk.example.com/')).toMatch(
      /^xn--[a-z0-9-]+\.example\.com$/,
    );
    expect(hiddenDestination('Fares to Lisbon', 'https://example.com/a')).toBe('example.com');
  });

  it('a direction override in the link text is shown as a marker, and the note is drawn left to right', () => {
    const out = md('[Approve \u202E](https://evil.example.net/)');
    expect(out).toContain(`Approve ⟨U+202E⟩${note('evil.example.net')}</a>`);
    // A direction mark (ordinary in right-to-left writing) stays; the note is isolated from it.
    expect(md('[Approve \u200F](https://evil.example.net/)')).toContain(
      `Approve \u200F${note('evil.example.net')}</a>`,
    );
  });
});
