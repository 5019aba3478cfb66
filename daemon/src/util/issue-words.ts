// Zod's own words for a refused value ("Too big: expected string to have <=80 characters") as plain
// words that name the limit ("is too long: at most 80 characters"), for whoever says a refusal to a
// person: the CLI, and the daemon's answers to it. A message the schema gives itself is kept as is.

/** The parts of a zod issue these words are made from. */
export interface IssueLike {
  code: string;
  path: readonly PropertyKey[];
  message: string;
  origin?: string;
  maximum?: number | bigint;
  minimum?: number | bigint;
  inclusive?: boolean;
  expected?: string;
  values?: readonly unknown[];
}

/** Zod's default message for each code starts so; any other message is the schema's own. */
const ZOD_DEFAULT: Record<string, string> = {
  too_big: 'Too big:',
  too_small: 'Too small:',
  invalid_type: 'Invalid input:',
  invalid_value: 'Invalid option:',
};

const amount = (n: number | bigint | undefined) => (n === undefined ? '?' : Number(n).toLocaleString('en'));

function tooBig(i: IssueLike): string {
  const exclusive = i.inclusive === false;
  const most = exclusive && i.maximum !== undefined ? Number(i.maximum) - 1 : i.maximum;
  if (i.origin === 'string') return `is too long: at most ${amount(most)} characters`;
  if (i.origin === 'array' || i.origin === 'set') return `has too many items: at most ${amount(most)}`;
  if (i.origin === 'number' || i.origin === 'bigint')
    return exclusive ? `must be less than ${amount(i.maximum)}` : `must be at most ${amount(i.maximum)}`;
  return `is too big: at most ${amount(i.maximum)}`;
}

function tooSmall(i: IssueLike): string {
  const exclusive = i.inclusive === false;
  const least = Number(i.minimum ?? 0) + (exclusive ? 1 : 0);
  if (i.origin === 'string') return least <= 1 ? 'is empty' : `is too short: at least ${amount(least)} characters`;
  if (i.origin === 'array' || i.origin === 'set')
    return least <= 1 ? 'is empty' : `needs at least ${amount(least)} items`;
  if (i.origin === 'number' || i.origin === 'bigint')
    return exclusive ? `must be more than ${amount(i.minimum)}` : `must be at least ${amount(i.minimum)}`;
  return `is too small: at least ${amount(i.minimum)}`;
}

/** What is wrong with the value, without naming it: "is too long: at most 80 characters". */
export function issueWords(i: IssueLike): string {
  const zodsOwn = ZOD_DEFAULT[i.code];
  if (!zodsOwn || !i.message.startsWith(zodsOwn)) return i.message;
  switch (i.code) {
    case 'too_big':
      return tooBig(i);
    case 'too_small':
      return tooSmall(i);
    case 'invalid_value':
      return `must be one of ${(i.values ?? []).map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return / received undefined$/.test(i.message)
        ? 'is missing'
        : `must be a ${i.expected ?? 'different kind of value'}`;
  }
}

/** The issue as a sentence naming its field: "title is too long: at most 80 characters". */
export function issueSentence(i: IssueLike, whole = 'input'): string {
  const where = i.path.map(String).join('.') || whole;
  const words = issueWords(i);
  // A schema's own message is a phrase of its own ("lowercase letters, digits, - and _, up to 32").
  return words === i.message ? `${where}: ${words}` : `${where} ${words}`;
}
