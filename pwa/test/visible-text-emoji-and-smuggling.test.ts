// The phone's visible text (approval cards, connector statuses): emoji are shown as emoji, with the
// joiners and selectors they are made of, while the same characters anywhere else, tag characters
// (even in a flag), stray variation selectors and U+2065 are shown as markers.
import { describe, expect, it } from 'vitest';
import { visibleText } from '../../shared/src/visible-text.js';

describe('visibleText and emoji', () => {
  it('keeps emoji, their joiners and one presentation selector as they are', () => {
    const plain = 'café 日本 ❤️ 👩‍💻 🏳️‍🌈 👩🏽‍💻 🏃🏽‍♀️ ❤️‍🔥 👁️‍🗨️ 1️⃣ #️⃣ ©️ ☀︎';
    expect(visibleText(plain)).toBe(plain);
  });

  it('marks joiners and selectors outside emoji, tag characters and the rest of their plane', () => {
    expect(visibleText('a\u200db')).toBe('a⟨U+200D⟩b');
    expect(visibleText('😀\u200d')).toBe('😀⟨U+200D⟩');
    expect(visibleText('a\ufe0fb')).toBe('a⟨U+FE0F⟩b');
    expect(visibleText('❤\ufe0f\ufe0f')).toBe('❤\ufe0f⟨U+FE0F⟩');
    expect(visibleText('🏴\u{e0067}\u{e0062}\u{e007f}')).toBe('🏴⟨U+E0067⟩⟨U+E0062⟩⟨U+E007F⟩');
    expect(visibleText('a\u{e0100}\u{e0080}\u2065b')).toBe('a⟨U+E0100⟩⟨U+E0080⟩⟨U+2065⟩b');
  });
});
