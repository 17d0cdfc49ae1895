// BIRD's "since" column as an oracle for "this session was not reset". BIRD 2 keeps the time on its monotonic
// clock and converts it to wall-clock time each time it prints it, so the printed stamp of one moment can move by
// a millisecond between two calls (seen once in CI: 19:46:03.914, then .915); with a format without
// milliseconds the same jitter can flip the second. A reset moves the stamp by at least the reconnect time.

/** Two printed "since" stamps ("19:46:03.914", "19:46:03", with an optional date before) name the same moment. */
export function sameInstant(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const parse = (x: string): { day: string; ms: number; exact: boolean } | undefined => {
    const t = x.trim();
    const m = /(\d+):(\d+):(\d+)(?:\.(\d+))?$/.exec(t);
    if (m === null) return undefined;
    const ms = ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + Number((m[4] ?? '0').padEnd(3, '0').slice(0, 3));
    return { day: t.slice(0, m.index).trim(), ms, exact: m[4] !== undefined };
  };
  const pa = parse(a);
  const pb = parse(b);
  if (pa === undefined || pb === undefined) return a === b;
  return pa.day === pb.day && Math.abs(pa.ms - pb.ms) <= (pa.exact && pb.exact ? 5 : 1000);
}
