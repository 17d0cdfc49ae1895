// The RFC 4456 reflection rewrite on raw attribute bytes, allocation-light for the export path (one output
// buffer per exported attribute set). Which IDs to prepend is policy (src/reflector/policy.ts); this is bytes.
import { ATTRIBUTES } from './attributes.js';
import { AttrType, ATTR_FLAG_EXTENDED_LENGTH, ATTR_FLAG_OPTIONAL, ATTR_FLAG_PARTIAL, ATTR_FLAG_TRANSITIVE } from './types.js';

/** Attribute types we recognise; an unrecognised optional transitive attribute is passed on with Partial set. */
const KNOWN = new Uint8Array(256);
for (let t = 0; t < 256; t++) if (ATTRIBUTES[t] !== undefined) KNOWN[t] = 1;

/**
 * Rewrites raw attributes (without MP_REACH/MP_UNREACH) for reflection: adds ORIGINATOR_ID = originatorIfAbsent
 * when absent, prepends `prepend` to CLUSTER_LIST (creating it when absent), sets the Partial bit on unknown
 * optional transitive attributes and drops unknown optional non-transitive ones. Everything else is copied
 * byte for byte, including the NEXT_HOP. New attributes go in ascending type order.
 */
export function reflectAttributes(attrs: Uint8Array, originatorIfAbsent: number, prepend: readonly number[]): Buffer {
  const out = Buffer.allocUnsafe(attrs.length + 7 + 4 + 4 * prepend.length + 1);
  let o = 0;
  let p = 0;
  let wroteOriginator = false;
  let wroteCluster = false;
  const end = attrs.length;
  const writeOriginator = () => {
    out[o] = ATTR_FLAG_OPTIONAL; out[o + 1] = AttrType.ORIGINATOR_ID; out[o + 2] = 4;
    out.writeUInt32BE(originatorIfAbsent >>> 0, o + 3);
    o += 7;
    wroteOriginator = true;
  };
  const writeCluster = (old: Uint8Array | null, oldStart: number, oldLen: number, oldFlags: number) => {
    const len = oldLen + 4 * prepend.length;
    const ext = len > 255;
    out[o] = (oldFlags & (ATTR_FLAG_OPTIONAL | ATTR_FLAG_TRANSITIVE | ATTR_FLAG_PARTIAL)) | ATTR_FLAG_OPTIONAL | (ext ? ATTR_FLAG_EXTENDED_LENGTH : 0);
    out[o + 1] = AttrType.CLUSTER_LIST;
    if (ext) { out.writeUInt16BE(len, o + 2); o += 4; } else { out[o + 2] = len; o += 3; }
    for (const id of prepend) { out.writeUInt32BE(id >>> 0, o); o += 4; }
    if (old !== null) { out.set(old.subarray(oldStart, oldStart + oldLen), o); o += oldLen; }
    wroteCluster = true;
  };
  while (p < end) {
    const flags = attrs[p];
    const type = attrs[p + 1];
    const ext = (flags & ATTR_FLAG_EXTENDED_LENGTH) !== 0;
    const len = ext ? (attrs[p + 2] << 8) | attrs[p + 3] : attrs[p + 2];
    const hdr = ext ? 4 : 3;
    const next = p + hdr + len;
    if (!wroteOriginator && type > AttrType.ORIGINATOR_ID) writeOriginator();
    if (!wroteCluster && type > AttrType.CLUSTER_LIST && prepend.length > 0) writeCluster(null, 0, 0, ATTR_FLAG_OPTIONAL);
    if (type === AttrType.ORIGINATOR_ID) {
      wroteOriginator = true;
      out.set(attrs.subarray(p, next), o);
      o += next - p;
    } else if (type === AttrType.CLUSTER_LIST) {
      if (prepend.length > 0) writeCluster(attrs, p + hdr, len, flags);
      else { out.set(attrs.subarray(p, next), o); o += next - p; wroteCluster = true; }
    } else if (KNOWN[type] === 1 || (flags & ATTR_FLAG_OPTIONAL) === 0) {
      out.set(attrs.subarray(p, next), o);
      o += next - p;
    } else if (flags & ATTR_FLAG_TRANSITIVE) {
      out.set(attrs.subarray(p, next), o);
      out[o] = flags | ATTR_FLAG_PARTIAL;
      o += next - p;
    }
    // else: unknown optional non-transitive — not passed on (RFC 4271 §5).
    p = next;
  }
  if (!wroteOriginator) writeOriginator();
  if (!wroteCluster && prepend.length > 0) writeCluster(null, 0, 0, ATTR_FLAG_OPTIONAL);
  return out.subarray(0, o);
}

