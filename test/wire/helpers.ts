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
