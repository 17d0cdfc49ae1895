// Test helpers for the wire codec: hex to bytes and hand-built message framing.
export function h(hexStr: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hexStr.replace(/[^0-9a-fA-F]/g, ''), 'hex'));
}

/** A whole message: marker, length, type, body. */
export function msg(type: number, body: Uint8Array | string): Uint8Array {
  const b = typeof body === 'string' ? h(body) : body;
  const out = new Uint8Array(19 + b.length);
  out.fill(0xff, 0, 16);
  out[16] = out.length >> 8;
  out[17] = out.length & 0xff;
  out[18] = type;
  out.set(b, 19);
  return out;
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** One path attribute: flags, type, value (extended length when flags has 0x10). */
export function attr(flags: number, type: number, value: Uint8Array | string): Uint8Array {
  const v = typeof value === 'string' ? h(value) : value;
  const ext = (flags & 0x10) !== 0;
  const out = new Uint8Array((ext ? 4 : 3) + v.length);
  out[0] = flags;
  out[1] = type;
  if (ext) { out[2] = v.length >> 8; out[3] = v.length & 0xff; } else out[2] = v.length;
  out.set(v, ext ? 4 : 3);
  return out;
}

export function cat(...parts: (Uint8Array | string)[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts.map((p) => (typeof p === 'string' ? h(p) : p))));
}

/** A whole UPDATE from withdrawn field, attribute block and NLRI field. */
export function update(withdrawn: Uint8Array | string, attrs: Uint8Array | string, nlri: Uint8Array | string): Uint8Array {
  const w = typeof withdrawn === 'string' ? h(withdrawn) : withdrawn;
  const a = typeof attrs === 'string' ? h(attrs) : attrs;
  const body = cat(Uint8Array.of(w.length >> 8, w.length & 0xff), w, Uint8Array.of(a.length >> 8, a.length & 0xff), a, nlri);
  return msg(2, body);
}

export const ORIGIN_IGP = '40 01 01 00';
export const AS_PATH_65001 = '40 02 06 02 01 0000fde9';
export const NEXT_HOP_10_0_0_1 = '40 03 04 0a000001';
export const BASIC_ATTRS = ORIGIN_IGP + AS_PATH_65001 + NEXT_HOP_10_0_0_1;

/** Structural equality for codec values: plain objects (any prototype), arrays, byte arrays, primitives. */
export function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!(Array.isArray(a) && Array.isArray(b)) || a.length !== b.length) return false;
    return a.every((x, i) => same(x, b[i]));
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Throws (for fast-check to report) when a and b differ. */
export function expectSame(a: unknown, b: unknown, what: string): void {
  if (!same(a, b)) throw new Error(`${what} differs:\n${show(a)}\n!==\n${show(b)}`);
}

export function show(x: unknown): string {
  return JSON.stringify(x, (_k, v: unknown) => (v instanceof Uint8Array ? `<${Buffer.from(v).toString('hex')}>` : v));
}
