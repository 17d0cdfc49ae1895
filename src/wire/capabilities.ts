// OPEN capabilities (RFC 5492) one by one: multiprotocol, route refresh, extended message, graceful restart,
// 4-octet AS, ADD-PATH, enhanced route refresh, long-lived GR, FQDN; anything else is kept as raw bytes.
import type { Capability } from './types.js';
import { bytesEqual, putU16, putU32, u16, u32 } from './util.js';

export const enum CapabilityCode {
  MULTIPROTOCOL = 1,
  ROUTE_REFRESH = 2,
  EXTENDED_MESSAGE = 6,
  GRACEFUL_RESTART = 64,
  AS4 = 65,
  ADD_PATH = 69,
  ENHANCED_ROUTE_REFRESH = 70,
  LONG_LIVED_GRACEFUL_RESTART = 71,
  FQDN = 73,
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The value octets (without code and length) of one capability. */
export function encodeCapabilityValue(c: Capability): Uint8Array {
  switch (c.kind) {
    case 'multiprotocol': {
      const b = new Uint8Array(4);
      putU16(b, 0, c.afi);
      b[3] = c.safi;
      return b;
    }
    case 'route-refresh':
    case 'extended-message':
    case 'enhanced-route-refresh':
      return new Uint8Array(0);
    case 'graceful-restart': {
      const b = new Uint8Array(2 + 4 * c.families.length);
      putU16(b, 0, ((c.restarting ? 0x8 : 0) | (c.notification ? 0x4 : 0)) << 12 | (c.restartTime & 0xfff));
      c.families.forEach((f, i) => {
        putU16(b, 2 + 4 * i, f.afi);
        b[4 + 4 * i] = f.safi;
        b[5 + 4 * i] = f.forwardingPreserved ? 0x80 : 0;
      });
      return b;
    }
    case 'as4': {
      const b = new Uint8Array(4);
      putU32(b, 0, c.as);
      return b;
    }
    case 'add-path': {
      const b = new Uint8Array(4 * c.families.length);
      c.families.forEach((f, i) => {
        putU16(b, 4 * i, f.afi);
        b[2 + 4 * i] = f.safi;
        b[3 + 4 * i] = f.sendReceive;
      });
      return b;
    }
    case 'long-lived-graceful-restart': {
      const b = new Uint8Array(7 * c.families.length);
      c.families.forEach((f, i) => {
        const o = 7 * i;
        putU16(b, o, f.afi);
        b[o + 2] = f.safi;
        b[o + 3] = f.flags;
        b[o + 4] = (f.staleTime >>> 16) & 0xff;
        putU16(b, o + 5, f.staleTime & 0xffff);
      });
      return b;
    }
    case 'fqdn': {
      const h = Buffer.from(c.hostname, 'utf8');
      const d = Buffer.from(c.domainName, 'utf8');
      if (h.length > 255 || d.length > 255) throw new RangeError('FQDN capability: hostname and domain name are limited to 255 octets');
      const b = new Uint8Array(2 + h.length + d.length);
      b[0] = h.length;
      b.set(h, 1);
      b[1 + h.length] = d.length;
      b.set(d, 2 + h.length);
      return b;
    }
    case 'unknown':
      return c.value;
  }
}

/** Structured reading of a known capability; undefined when the value does not have the expected shape. */
function parseKnown(code: number, v: Uint8Array): Capability | undefined {
  switch (code) {
    case CapabilityCode.MULTIPROTOCOL:
      return v.length === 4 ? { kind: 'multiprotocol', code: 1, afi: u16(v, 0), safi: v[3]! } : undefined;
    case CapabilityCode.ROUTE_REFRESH:
      return v.length === 0 ? { kind: 'route-refresh', code: 2 } : undefined;
    case CapabilityCode.EXTENDED_MESSAGE:
      return v.length === 0 ? { kind: 'extended-message', code: 6 } : undefined;
    case CapabilityCode.ENHANCED_ROUTE_REFRESH:
      return v.length === 0 ? { kind: 'enhanced-route-refresh', code: 70 } : undefined;
    case CapabilityCode.GRACEFUL_RESTART: {
      if (v.length < 2 || (v.length - 2) % 4 !== 0) return undefined;
      const w = u16(v, 0);
      const families = [];
      for (let o = 2; o < v.length; o += 4) families.push({ afi: u16(v, o), safi: v[o + 2]!, forwardingPreserved: (v[o + 3]! & 0x80) !== 0 });
      return { kind: 'graceful-restart', code: 64, restarting: (w & 0x8000) !== 0, notification: (w & 0x4000) !== 0, restartTime: w & 0xfff, families };
    }
    case CapabilityCode.AS4:
      return v.length === 4 ? { kind: 'as4', code: 65, as: u32(v, 0) } : undefined;
    case CapabilityCode.ADD_PATH: {
      if (v.length % 4 !== 0) return undefined;
      const families: { afi: number; safi: number; sendReceive: 1 | 2 | 3 }[] = [];
      for (let o = 0; o < v.length; o += 4) {
        const sr = v[o + 3]!;
        if (sr !== 1 && sr !== 2 && sr !== 3) return undefined;
        families.push({ afi: u16(v, o), safi: v[o + 2]!, sendReceive: sr });
      }
      return { kind: 'add-path', code: 69, families };
    }
    case CapabilityCode.LONG_LIVED_GRACEFUL_RESTART: {
      if (v.length % 7 !== 0) return undefined;
      const families = [];
      for (let o = 0; o < v.length; o += 7) {
        families.push({ afi: u16(v, o), safi: v[o + 2]!, flags: v[o + 3]!, staleTime: (v[o + 4]! << 16) | u16(v, o + 5) });
      }
      return { kind: 'long-lived-graceful-restart', code: 71, families };
    }
    case CapabilityCode.FQDN: {
      if (v.length < 1) return undefined;
      const hl = v[0]!;
      if (1 + hl + 1 > v.length) return undefined;
      const dl = v[1 + hl]!;
      if (2 + hl + dl !== v.length) return undefined;
      try {
        return { kind: 'fqdn', code: 73, hostname: utf8.decode(v.subarray(1, 1 + hl)), domainName: utf8.decode(v.subarray(2 + hl)) };
      } catch {
        return undefined;
      }
    }
    default:
      return undefined;
  }
}

/**
 * Decodes one capability value. A capability is given its structured form only when re-encoding that form
 * gives back the same octets (e.g. no stray reserved bits); otherwise it is kept raw as 'unknown', which keeps
 * encode(decode(x)) byte-exact and never rejects a peer for a shape we do not understand.
 */
export function decodeCapability(code: number, value: Uint8Array): Capability {
  const c = parseKnown(code, value);
  if (c !== undefined && bytesEqual(encodeCapabilityValue(c), value)) return c;
  return { kind: 'unknown', code, value: Uint8Array.from(value) };
}
