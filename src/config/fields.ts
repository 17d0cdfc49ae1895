// The typed field parsers every configuration area uses: each reads one variable and, when its value is bad,
// records a problem that names the variable and says what was expected. Nothing throws here; loadConfig
// collects every area's problems and throws one ConfigError listing them all.
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { canonicalIPv4, canonicalIPv6 } from '../net/address.js';

/** The process environment, or the exact variables a test gives. */
export type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super(problems.join('; '));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** A variable that is set: which spelling was used (CALICO_X or X) and its trimmed value. */
export interface Setting {
  name: string;
  value: string;
}

export interface HostPort {
  /** undefined = every address (Prometheus-style ":9180"). */
  host: string | undefined;
  port: number;
}

export function parseBool(text: string): boolean | undefined {
  const t = text.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'no', 'off'].includes(t)) return false;
  return undefined;
}

export function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : undefined;
}

const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/** Parses "host:port", ":port", "[v6]:port" or a bare port. */
export function parseListen(text: string): HostPort | undefined {
  let host: string | undefined;
  let portText: string;
  if (/^\d+$/.test(text)) {
    portText = text;
  } else if (text.startsWith('[')) {
    const m = /^\[([^\]]+)\]:(\d+)$/.exec(text);
    if (!m) return undefined;
    const h = canonicalIPv6(m[1] ?? '');
    if (h === undefined) return undefined;
    host = h;
    portText = m[2] ?? '';
  } else {
    const idx = text.lastIndexOf(':');
    if (idx < 0) return undefined;
    const h = text.slice(0, idx);
    portText = text.slice(idx + 1);
    if (h !== '') {
      if (h.includes(':')) return undefined; // IPv6 needs brackets
      const v4 = canonicalIPv4(h);
      if (v4 === undefined && !HOSTNAME.test(h)) return undefined;
      host = v4 ?? h;
    }
  }
  const port = parsePort(portText);
  return port === undefined ? undefined : { host, port };
}

/** Why a path is not a readable regular file, or undefined when it is one. */
export function unreadableFile(path: string): string | undefined {
  try {
    const st = statSync(path);
    if (!st.isFile()) return `"${path}" is not a regular file`;
    accessSync(path, fsConstants.R_OK);
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `"${path}" does not exist` : `"${path}" cannot be read (${code ?? String(e)})`;
  }
}

/** Reads variables from one environment and collects the problems of every area. */
export class EnvReader {
  readonly problems: string[] = [];
  readonly notes: string[] = [];
  readonly warnings: string[] = [];

  constructor(private readonly env: Env) {}

  /** One variable; libcalico-go's CALICO_-prefixed spelling wins over the plain one, as in the v0.5+ image. */
  get(name: string, calicoAlias = false): Setting | undefined {
    const names = calicoAlias ? [`CALICO_${name}`, name] : [name];
    for (const n of names) {
      const v = this.env[n];
      // An empty value means unset: the v0.4.x run script passed every variable, set or not.
      if (v !== undefined && v.trim() !== '') return { name: n, value: v.trim() };
    }
    return undefined;
  }

  /** The value exactly as given (a password may legitimately start or end with spaces). */
  raw(name: string): string | undefined {
    return this.env[name];
  }

  bad(name: string, what: string): void {
    this.problems.push(`${name}: ${what}`);
  }

  hasProblem(name: string): boolean {
    return this.problems.some((p) => p.startsWith(`${name}:`));
  }

  /** A decimal integer in [min, max]; `expected` completes `"<value>" is not …`. */
  int(name: string, min: number, max: number, expected = `an integer from ${min} to ${max}`): number | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    const n = /^\d{1,15}$/.test(v.value) ? Number(v.value) : NaN;
    if (!(n >= min && n <= max)) {
      this.bad(name, `"${v.value}" is not ${expected}`);
      return undefined;
    }
    return n;
  }

  port(name: string): number | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    const p = parsePort(v.value);
    if (p === undefined) this.bad(name, `"${v.value}" is not a TCP port (1-65535)`);
    return p;
  }

  bool(name: string): boolean | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    const b = parseBool(v.value);
    if (b === undefined) this.bad(name, `"${v.value}" is not true or false`);
    return b;
  }

  /** One of a fixed set of words, case-insensitive; the result is the lowercase word. */
  oneOf<T extends string>(name: string, values: readonly T[], calicoAlias = false): T | undefined {
    const v = this.get(name, calicoAlias);
    if (v === undefined) return undefined;
    const l = v.value.toLowerCase();
    if ((values as readonly string[]).includes(l)) return l as T;
    this.bad(v.name, `"${v.value}" is not one of ${values.join(', ')}`);
    return undefined;
  }

  /** An address in canonical form (IPv4 dotted quad, IPv6 compressed lowercase). */
  address(name: string, family: 4 | 6): string | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    const a = family === 4 ? canonicalIPv4(v.value) : canonicalIPv6(v.value);
    if (a === undefined) this.bad(name, `"${v.value}" is not an IPv${family} address`);
    return a;
  }

  /** host:port, :port, [v6]:port or a bare port; `alsoOff` words turn the feature off (result null). */
  hostPort(name: string, alsoOff: readonly string[] = []): HostPort | null | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    if (alsoOff.includes(v.value.toLowerCase())) return null;
    const l = parseListen(v.value);
    if (l === undefined) {
      this.bad(name, `"${v.value}" is not host:port, :port or [ipv6]:port${alsoOff.length > 0 ? ` (or "${alsoOff[0] ?? ''}")` : ''}`);
    }
    return l;
  }

  /** A list (comma-separated unless told), items trimmed, empty items dropped. */
  list(name: string, calicoAlias = false, separator = ','): { name: string; items: string[] } | undefined {
    const v = this.get(name, calicoAlias);
    if (v === undefined) return undefined;
    return { name: v.name, items: v.value.split(separator).map((s) => s.trim()).filter((s) => s !== '') };
  }

  /** The path of a readable regular file. */
  readableFile(name: string, calicoAlias = false): string | undefined {
    const v = this.get(name, calicoAlias);
    if (v === undefined) return undefined;
    const err = unreadableFile(v.value);
    if (err !== undefined) {
      this.bad(v.name, err);
      return undefined;
    }
    return v.value;
  }
}
