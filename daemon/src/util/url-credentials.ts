// A URL can carry a user name and password (`http://user:pass@host`, as model proxies use). Those
// are secrets: what Errand prints or writes where others can read it shows the URL without them.

/** The scheme and everything up to the last `@` before the host ends: the userinfo to drop. */
const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^\s/?#\\]*@/gi;

function parsed(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** True when `value` is a URL with a user name or password in it. */
export function hasUrlCredentials(value: string): boolean {
  const url = parsed(value);
  if (url) return url.username !== '' || url.password !== '';
  return new RegExp(USERINFO.source, 'i').test(value);
}

/**
 * `text` with the user name and password taken out of every URL in it (a URL, or a sentence that
 * names one), the rest as written: `http://u:p@host:8080/x` becomes `http://host:8080/x`.
 */
export function withoutUrlCredentials(text: string): string {
  return text.replace(USERINFO, '$1');
}

/**
 * The Authorization header a user name and password in `url` stand for (what node:http sends for
 * them, so a check makes the request a model call makes), or undefined when it has none. Throws
 * URIError on a bad % escape in them, as node:http does.
 */
export function basicAuthOf(url: URL): string | undefined {
  if (url.username === '' && url.password === '') return undefined;
  const pair = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
}
