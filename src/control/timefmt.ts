// BIRD 1.6 `timeformat` rendering of timestamps (protocol since, route age, show status), in local time.
// Covers the named choices (iso short/long, old short/long), unix epoch and custom strftime specs.

/** One BIRD time spec: fmt1 when the event is younger than limitSeconds (or always if 0), else fmt2. */
export type TimeSpec =
  | { kind: 'strftime'; fmt1: string; fmt2?: string; limitSeconds: number }
  /** BIRD's relative "old short" format: HH:MM, MonDD, YYYY. */
  | { kind: 'relative' };

/** The three BIRD time categories the CLI uses. */
export interface TimeFormats {
  protocol: TimeSpec;
  route: TimeSpec;
  base: TimeSpec;
}

const TWENTY_HOURS = 20 * 3600;

export const ISO_SHORT: TimeSpec = { kind: 'strftime', fmt1: '%T', fmt2: '%F', limitSeconds: TWENTY_HOURS };
export const ISO_LONG: TimeSpec = { kind: 'strftime', fmt1: '%F %T', limitSeconds: 0 };
export const OLD_SHORT: TimeSpec = { kind: 'relative' };
export const OLD_LONG: TimeSpec = { kind: 'strftime', fmt1: '%d-%m-%Y %T', limitSeconds: 0 };
export const UNIX_EPOCH: TimeSpec = { kind: 'strftime', fmt1: '%s', limitSeconds: 0 };

/** BIRD 1.6 defaults: protocol/route "iso short", base "%F %T". */
export const DEFAULT_TIME_FORMATS: TimeFormats = { protocol: ISO_SHORT, route: ISO_SHORT, base: ISO_LONG };

/**
 * Map one operator setting (env BIRD_TIMEFORMAT) to the three categories, as if `timeformat protocol`
 * and `timeformat route` were set to it: "iso short" (default), "iso long", "old short", "old long",
 * "unix" (epoch seconds), or a quoted/unquoted strftime string such as "%F %T". Base time follows
 * the same family (old → old long, unix → epoch, else %F %T). Returns undefined for an unknown name.
 */
export function timeFormatsFromSetting(setting: string | undefined): TimeFormats | undefined {
  const s = (setting ?? '').trim().replace(/^"(.*)"$/, '$1');
  switch (s.toLowerCase()) {
    case '':
    case 'iso short':
      return DEFAULT_TIME_FORMATS;
    case 'iso long':
      return { protocol: ISO_LONG, route: ISO_LONG, base: ISO_LONG };
    case 'old short':
      return { protocol: OLD_SHORT, route: OLD_SHORT, base: OLD_LONG };
    case 'old long':
      return { protocol: OLD_LONG, route: OLD_LONG, base: OLD_LONG };
    case 'unix':
    case 'unix epoch':
    case '%s':
      return { protocol: UNIX_EPOCH, route: UNIX_EPOCH, base: UNIX_EPOCH };
    default:
      if (!s.includes('%')) return undefined;
      return { protocol: { kind: 'strftime', fmt1: s, limitSeconds: 0 }, route: { kind: 'strftime', fmt1: s, limitSeconds: 0 }, base: ISO_LONG };
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** The subset of C strftime that BIRD configurations use, in the process's local time zone. */
export function strftime(fmt: string, t: Date): string {
  let out = '';
  for (let i = 0; i < fmt.length; i++) {
    const ch = fmt[i];
    if (ch !== '%' || i + 1 >= fmt.length) {
      out += ch;
      continue;
    }
    const spec = fmt[++i];
    switch (spec) {
      case 'F':
        out += `${t.getFullYear()}-${pad2(t.getMonth() + 1)}-${pad2(t.getDate())}`;
        break;
      case 'T':
        out += `${pad2(t.getHours())}:${pad2(t.getMinutes())}:${pad2(t.getSeconds())}`;
        break;
      case 'R':
        out += `${pad2(t.getHours())}:${pad2(t.getMinutes())}`;
        break;
      case 'Y':
        out += String(t.getFullYear());
        break;
      case 'y':
        out += pad2(t.getFullYear() % 100);
        break;
      case 'm':
        out += pad2(t.getMonth() + 1);
        break;
      case 'd':
        out += pad2(t.getDate());
        break;
      case 'e':
        out += String(t.getDate()).padStart(2, ' ');
        break;
      case 'H':
        out += pad2(t.getHours());
        break;
      case 'M':
        out += pad2(t.getMinutes());
        break;
      case 'S':
        out += pad2(t.getSeconds());
        break;
      case 's':
        out += String(Math.floor(t.getTime() / 1000));
        break;
      case 'b':
      case 'h':
        out += MONTHS[t.getMonth()];
        break;
      case 'a':
        out += DAYS[t.getDay()];
        break;
      case 'j': {
        const start = new Date(t.getFullYear(), 0, 1);
        const day = Math.floor((t.getTime() - start.getTime()) / 86400000) + 1;
        out += String(day).padStart(3, '0');
        break;
      }
      case '%':
        out += '%';
        break;
      default:
        out += `%${spec}`;
    }
  }
  return out;
}

/** Format `t` the way BIRD's tm_format_datetime does, `now` being the current time. */
export function formatTime(spec: TimeSpec, t: Date, now: Date): string {
  // BIRD works in whole seconds; sub-second parts never show.
  const deltaSeconds = Math.floor(now.getTime() / 1000) - Math.floor(t.getTime() / 1000);
  if (spec.kind === 'relative') {
    if (deltaSeconds < TWENTY_HOURS) return `${pad2(t.getHours())}:${pad2(t.getMinutes())}`;
    if (deltaSeconds < 360 * 86400) return `${MONTHS[t.getMonth()]}${pad2(t.getDate())}`;
    return String(t.getFullYear());
  }
  const useFirst = spec.limitSeconds === 0 || deltaSeconds < spec.limitSeconds || spec.fmt2 === undefined;
  return strftime(useFirst ? spec.fmt1 : (spec.fmt2 ?? spec.fmt1), t);
}
