// AS_PATH / AS4_PATH segments (RFC 4271 §4.3, RFC 5065 confederation segments) in 2- and 4-octet form,
// and the RFC 6793 rules between NEW and OLD speakers: AS_TRANS + AS4_* on output, merge on input.
import { AsPathSegmentType, AS_TRANS, AttrType, ATTR_FLAG_OPTIONAL, ATTR_FLAG_TRANSITIVE } from './types.js';
import type { AsPathSegment, PathAttribute } from './types.js';

/**
 * True when b[s, e) is a well-formed sequence of segments with asSize-octet AS numbers (RFC 7606 §7.2):
 * known segment types, no empty segment, no overrun, and no AS 0 (RFC 7607).
 */
export function asPathWellFormed(b: Uint8Array, s: number, e: number, asSize: number): boolean {
  let o = s;
  while (o < e) {
    if (o + 2 > e) return false;
    const t = b[o]!;
    const n = b[o + 1]!;
    if (t < AsPathSegmentType.AS_SET || t > AsPathSegmentType.AS_CONFED_SET || n === 0) return false;
    const end = o + 2 + n * asSize;
    if (end > e) return false;
    for (let p = o + 2; p < end; p += asSize) {
      if ((asSize === 4 ? b[p]! | b[p + 1]! | b[p + 2]! | b[p + 3]! : b[p]! | b[p + 1]!) === 0) return false;
    }
    o = end;
  }
  return true;
}

export function decodeAsPath(b: Uint8Array, s: number, e: number, asSize: number): AsPathSegment[] {
  const segs: AsPathSegment[] = [];
  let o = s;
  while (o + 2 <= e) {
    const type = b[o]! as AsPathSegmentType;
    const n = b[o + 1]!;
    o += 2;
    const asns: number[] = new Array<number>(n);
    for (let i = 0; i < n; i++, o += asSize) {
      asns[i] = asSize === 4 ? ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0 : (b[o]! << 8) | b[o + 1]!;
    }
    segs.push({ type, asns });
  }
  return segs;
}

/** Encodes segments; one longer than 255 AS numbers is split into several of the same type. */
export function encodeAsPath(segs: readonly AsPathSegment[], asSize: number): Uint8Array {
  let len = 0;
  for (const sg of segs) len += 2 * Math.max(1, Math.ceil(sg.asns.length / 255)) + sg.asns.length * asSize;
  const b = new Uint8Array(len);
  let o = 0;
  for (const sg of segs) {
    for (let i = 0; i < sg.asns.length || (i === 0 && sg.asns.length === 0); i += 255) {
      const chunk = sg.asns.slice(i, i + 255);
      b[o] = sg.type;
      b[o + 1] = chunk.length;
      o += 2;
      for (const as of chunk) {
        if (asSize === 4) {
          b[o] = as >>> 24; b[o + 1] = (as >>> 16) & 0xff; b[o + 2] = (as >>> 8) & 0xff; b[o + 3] = as & 0xff;
        } else {
          const v = as > 0xffff ? AS_TRANS : as;
          b[o] = v >>> 8; b[o + 1] = v & 0xff;
        }
        o += asSize;
      }
      if (sg.asns.length === 0) break;
    }
  }
  return b.subarray(0, o);
}

/** Path length for the decision process and RFC 6793 merging: AS_SET counts 1, confederation segments 0. */
export function asPathLength(segs: readonly AsPathSegment[]): number {
  let n = 0;
  for (const s of segs) {
    if (s.type === AsPathSegmentType.AS_SEQUENCE) n += s.asns.length;
    else if (s.type === AsPathSegmentType.AS_SET) n += 1;
  }
  return n;
}

function isConfed(t: AsPathSegmentType): boolean {
  return t === AsPathSegmentType.AS_CONFED_SEQUENCE || t === AsPathSegmentType.AS_CONFED_SET;
}

/**
 * RFC 6793 §4.2.3: the AS path of a route from an OLD (2-octet) speaker, rebuilt from AS_PATH and AS4_PATH.
 * When AS4_PATH is longer than AS_PATH it is ignored; otherwise the leading part of AS_PATH (with its
 * confederation segments) is prepended to AS4_PATH so that the result has AS_PATH's length.
 */
export function mergeAs4Path(asPath: readonly AsPathSegment[], as4Path: readonly AsPathSegment[]): AsPathSegment[] {
  const as4 = as4Path.filter((s) => !isConfed(s.type)); // confederation segments are not valid in AS4_PATH
  const n = asPathLength(asPath);
  const n4 = asPathLength(as4);
  if (n < n4) return asPath.map((s) => ({ type: s.type, asns: [...s.asns] }));
  let need = n - n4;
  const out: AsPathSegment[] = [];
  for (const s of asPath) {
    if (isConfed(s.type)) { out.push({ type: s.type, asns: [...s.asns] }); continue; }
    if (need === 0) break;
    if (s.type === AsPathSegmentType.AS_SET) { out.push({ type: s.type, asns: [...s.asns] }); need -= 1; continue; }
    const take = Math.min(need, s.asns.length);
    out.push({ type: s.type, asns: s.asns.slice(0, take) });
    need -= take;
  }
  for (const s of as4) {
    const last = out[out.length - 1];
    if (last && last.type === AsPathSegmentType.AS_SEQUENCE && s.type === AsPathSegmentType.AS_SEQUENCE && last.asns.length + s.asns.length <= 255) {
      last.asns.push(...s.asns);
    } else {
      out.push({ type: s.type, asns: [...s.asns] });
    }
  }
  return out;
}

type Attr<T extends AttrType> = Exclude<Extract<PathAttribute, { type: T }>, { unknown: true }>;

function find<T extends AttrType>(attrs: readonly PathAttribute[], type: T): Attr<T> | undefined {
  return attrs.find((a) => a.type === type && !('unknown' in a)) as Attr<T> | undefined;
}

/**
 * RFC 6793 §4.2.3, input from an OLD speaker: attributes decoded from a 2-octet session turned into their
 * 4-octet meaning: AS_PATH merged with AS4_PATH, AGGREGATOR taken from AS4_AGGREGATOR when it says AS_TRANS;
 * AS4_PATH and AS4_AGGREGATOR removed. Other attributes are passed through unchanged, in order.
 */
export function attributesFromAs2(attrs: readonly PathAttribute[]): PathAttribute[] {
  const agg = find(attrs, AttrType.AGGREGATOR);
  const agg4 = find(attrs, AttrType.AS4_AGGREGATOR);
  const path4 = find(attrs, AttrType.AS4_PATH);
  // An AGGREGATOR with a real (non-AS_TRANS) AS means the AS4_* attributes are stale: ignore both.
  const ignoreAs4 = agg !== undefined && agg.as !== AS_TRANS;
  const out: PathAttribute[] = [];
  for (const a of attrs) {
    if ('unknown' in a) { out.push(a); continue; }
    if (a.type === AttrType.AS4_PATH || a.type === AttrType.AS4_AGGREGATOR) continue;
    if (a.type === AttrType.AS_PATH && path4 && !ignoreAs4) {
      out.push({ type: AttrType.AS_PATH, flags: a.flags, segments: mergeAs4Path(a.segments, path4.segments) });
    } else if (a.type === AttrType.AGGREGATOR && agg4 && !ignoreAs4) {
      out.push({ type: AttrType.AGGREGATOR, flags: a.flags, as: agg4.as, address: agg4.address });
    } else {
      out.push(a);
    }
  }
  return out;
}

/**
 * RFC 6793 §4.2.2, output to an OLD speaker: given attributes in 4-octet meaning, add AS4_PATH when the path
 * holds an AS above 65535 (the 2-octet AS_PATH then shows AS_TRANS, done by the 2-octet encoder) and
 * AS4_AGGREGATOR when the aggregator AS is above 65535. Existing AS4_* attributes are replaced.
 */
export function attributesToAs2(attrs: readonly PathAttribute[]): PathAttribute[] {
  const out: PathAttribute[] = [];
  let as4Path: PathAttribute | undefined;
  let as4Agg: PathAttribute | undefined;
  for (const a of attrs) {
    if ('unknown' in a) { out.push(a); continue; }
    if (a.type === AttrType.AS4_PATH || a.type === AttrType.AS4_AGGREGATOR) continue;
    out.push(a);
    if (a.type === AttrType.AS_PATH && a.segments.some((s) => s.asns.some((x) => x > 0xffff))) {
      // Confederation segments are not carried in AS4_PATH (RFC 6793 §3).
      as4Path = { type: AttrType.AS4_PATH, flags: ATTR_FLAG_OPTIONAL | ATTR_FLAG_TRANSITIVE, segments: a.segments.filter((s) => !isConfed(s.type)) };
    }
    if (a.type === AttrType.AGGREGATOR && a.as > 0xffff) {
      as4Agg = { type: AttrType.AS4_AGGREGATOR, flags: ATTR_FLAG_OPTIONAL | ATTR_FLAG_TRANSITIVE, as: a.as, address: a.address };
    }
  }
  // Keep type-code order: AS4_PATH (17) and AS4_AGGREGATOR (18) go before the first attribute with a higher code.
  for (const extra of [as4Path, as4Agg]) {
    if (!extra) continue;
    const i = out.findIndex((a) => a.type > extra.type);
    if (i < 0) out.push(extra);
    else out.splice(i, 0, extra);
  }
  return out;
}

/**
 * Segment counts of one AS_PATH value b[s, e), allocation-free, for the path-length rules that differ by use
 * (the decision process ignores confederation segments, RFC 5065; the MAX_AS_PATH_LENGTH limit counts them):
 * each caller adds up the fields its rule names. `overrun` is set when a segment runs past e (the counts then
 * include that segment's declared count); a trailing single octet is ignored.
 */
export class AsPathTally {
  /** AS numbers in AS_SEQUENCE segments. */
  sequenceAses = 0;
  /** AS_SET segments (each counts one path hop). */
  sets = 0;
  confedSequenceAses = 0;
  confedSets = 0;
  /** AS numbers in segments of an unknown type. */
  otherAses = 0;
  /** Leftmost AS when the first segment is a non-empty AS_SEQUENCE, else 0 (the neighbour AS for MED). */
  firstAs = 0;
  overrun = false;

  read(b: Uint8Array, s: number, e: number, asSize: number): this {
    this.sequenceAses = 0; this.sets = 0; this.confedSequenceAses = 0; this.confedSets = 0; this.otherAses = 0;
    this.firstAs = 0; this.overrun = false;
    let first = true;
    for (let q = s; q + 2 <= e;) {
      const type = b[q]!;
      const count = b[q + 1]!;
      const next = q + 2 + count * asSize;
      if (type === AsPathSegmentType.AS_SEQUENCE) this.sequenceAses += count;
      else if (type === AsPathSegmentType.AS_SET) this.sets++;
      else if (type === AsPathSegmentType.AS_CONFED_SEQUENCE) this.confedSequenceAses += count;
      else if (type === AsPathSegmentType.AS_CONFED_SET) this.confedSets++;
      else this.otherAses += count;
      if (next > e) { this.overrun = true; break; }
      if (first && type === AsPathSegmentType.AS_SEQUENCE && count > 0) {
        this.firstAs = asSize === 4 ? ((b[q + 2]! << 24) | (b[q + 3]! << 16) | (b[q + 4]! << 8) | b[q + 5]!) >>> 0 : (b[q + 2]! << 8) | b[q + 3]!;
      }
      first = false;
      q = next;
    }
    return this;
  }
}
