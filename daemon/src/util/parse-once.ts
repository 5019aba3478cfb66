// Options for a zod parse done once in a while (a file read at start or after a change): zod
// otherwise writes and compiles a parser for each object schema on its first parse, which pays off
// only for schemas used again and again (a command's). A start made a dozen: ~4 ms.
export const PARSE_ONCE = { jitless: true } as const;
