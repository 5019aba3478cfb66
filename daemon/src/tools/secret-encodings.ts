// A secret as it reads once a tool encoded the bytes around it: base64 (an `Authorization: Basic`
// header, `base64 ~/.netrc`, a data: URL, a JWT's payload) and hex (`xxd -p`, a hexdump, a bytes
// literal). Base64 writes 3 bytes as 4 characters, so a secret's characters depend on where it sits
// in the encoded bytes: for each of the 3 places mod 3, the part of its encoding that does not
// depend on the bytes around it is looked for (standard and URL-safe alphabets).

/** Shorter parts than this are not looked for: a few characters of base64 can appear anywhere. */
const MIN_PART = 8;

/** The characters of base64 that only `secret`'s bytes decide, when it starts `shift` bytes into a group of 3. */
function base64Part(bytes: Buffer, shift: number): string {
  const total = shift + bytes.length;
  const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
  // The first character a secret byte shares with a byte before it, and the last group it fills whole.
  const first = [0, 2, 3][shift];
  const end = Math.floor(total / 3) * 4;
  return encoded.slice(first, end);
}

export function encodedForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms = new Set<string>();
  for (const shift of [0, 1, 2]) {
    const part = base64Part(bytes, shift);
    if (part.length < MIN_PART) continue;
    forms.add(part);
    forms.add(part.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  const hex = bytes.toString('hex');
  forms.add(hex);
  forms.add(hex.toUpperCase());
  return [...forms];
}

/**
 * Encoders wrap their lines: `base64` at 76 characters, PEM at 64, `xxd -p` at 60. A run of lines
 * made only of base64 (or hex) characters is searched with its line breaks taken out, and written
 * back that way where a secret was found in it. Line by line, so the work stays linear in the text
 * (one pattern over the whole text backtracked quadratically on a long unbroken run).
 */
const ENCODED_CHAR = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-')
  ENCODED_CHAR[c.charCodeAt(0)] = 1;

/** 8 or more base64 (or hex) characters and nothing else, but a final \r. */
function encodedLine(line: string): boolean {
  const n = line.endsWith('\r') ? line.length - 1 : line.length;
  if (n < 8) return false;
  for (let i = 0; i < n; i++) {
    const c = line.charCodeAt(i);
    if (c >= 128 || ENCODED_CHAR[c] !== 1) return false;
  }
  return true;
}

export function redactWrapped(text: string, redact: (joined: string) => string): string {
  if (!text.includes('\n')) return text;
  const lines = text.split('\n');
  const out: string[] = [];
  let changed = false;
  for (let i = 0; i < lines.length; ) {
    let end = i;
    while (end < lines.length && encodedLine(lines[end])) end++;
    if (end - i >= 2) {
      const joined = lines
        .slice(i, end)
        .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))
        .join('');
      const red = redact(joined);
      if (red !== joined) {
        out.push(red);
        changed = true;
      } else out.push(...lines.slice(i, end));
      i = end;
    } else {
      out.push(lines[i]);
      i = Math.max(end, i + 1);
    }
  }
  return changed ? out.join('\n') : text;
}
