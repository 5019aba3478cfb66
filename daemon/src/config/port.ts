// A port number as a person types it: decimal digits only. Number() would also take "0xb7a5",
// "4.7443e4" or " 80 ", and listen on a port nobody typed.

export const MAX_PORT = 65535;

/** The port `text` names, or undefined when it is not 1 to 5 decimal digits up to 65535. */
export function portFromDigits(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port <= MAX_PORT ? port : undefined;
}
