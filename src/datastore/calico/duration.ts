// Kubernetes metav1.Duration text (Go time.ParseDuration: "120s", "2m", "1h30m", "1.5h", "500ms"), as Calico's
// BGPPeer maxRestartTime / keepaliveTime and BGPConfiguration nodeMeshMaxRestartTime carry it in JSON and YAML.

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds, or undefined when `text` is not a Go duration. "0" alone is allowed, as in Go. */
export function parseGoDuration(text: string): number | undefined {
  let s = text.trim();
  if (s === '') return undefined;
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  const re = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  let total = 0;
  let any = false;
  while (s !== '') {
    const m = re.exec(s);
    if (m === null) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    s = s.slice(m[0].length);
    any = true;
  }
  return any ? sign * total : undefined;
}

/** Whole seconds as calico-node renders them for BIRD (math.Round of Duration.Seconds()). */
export function durationSeconds(ms: number): number {
  const s = ms / 1000;
  // Go's math.Round rounds half away from zero; Math.round rounds half up.
  return s < 0 ? -Math.round(-s) : Math.round(s);
}
