// Small helpers the benchmark scripts share: percentiles and a uniform report line.
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export const ms = (n: number) => `${n.toFixed(3)} ms`;

/** Print one figure against its target; returns whether it met it. */
export function report(name: string, value: string, ok: boolean, target: string): boolean {
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}: ${value}  (target: ${target})`);
  return ok;
}
