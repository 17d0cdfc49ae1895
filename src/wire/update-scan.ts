// The UPDATE hot path for the RIB: scanUpdate() validates an UPDATE with the RFC 7606 outcomes and locates
// its parts by offset, without decoding attributes into objects and without allocating per prefix.
//
// Design
// ------
// * One pass over the path attributes, one validation pass over each NLRI field (findBadPrefix). Nothing is
//   decoded into objects; the RIB later walks the validated ranges with forEachPrefixV4/V6 (nlri.ts), which
//   call back with numbers (IPv4 address as uint32) or (buffer, offset) pairs, so no per-prefix allocation.
// * The result is a ScannedUpdate. Pass the same object back as `out` to reuse it across messages (the common
//   case in a session's read loop); its fields are then overwritten. Ranges are offsets into `msg`.
// * Validation is shared with decodeMessage (which is built on this scan), so both give the same RFC 7606
//   outcome for every input: errors needing a session reset are thrown as BgpError; treat-as-withdraw and
//   attribute-discard are reported in `treatAsWithdraw` / `discarded` and never thrown.
// * `attrs` is the path attribute block as it should be stored and passed on: the interning key for the RIB.
//   It holds every attribute kept after validation, in wire order and with the wire flags, EXCEPT
//   MP_REACH_NLRI and MP_UNREACH_NLRI (the NLRI are carried separately), discarded/duplicate attributes, and
//   unrecognized optional non-transitive attributes (RFC 4271 §5: quietly ignored, not passed on).
//   Unrecognized optional transitive attributes get the Partial bit set (RFC 4271 §5). On a 2-octet AS
//   session (ctx.as4 false) the block is converted to its 4-octet form (AS4_PATH merged into AS_PATH,
//   AS4_AGGREGATOR into AGGREGATOR, RFC 6793 §4.2.3), so the RIB only ever sees 4-octet attributes;
//   buildUpdates converts back for 2-octet peers.
//   When nothing had to change and the kept attributes are contiguous (MP_* first or last, the usual
//   layout), `attrs` is a subarray of `msg` (no copy): copy it (Uint8Array.from / Buffer.from) before
//   retaining it beyond the life of the receive buffer.
// * End-of-RIB (RFC 4724 §2): an empty UPDATE (IPv4 unicast) or one carrying only an empty MP_UNREACH_NLRI.
import { attributesFromAs2 } from './as-path.js';
import { ATTRIBUTES, addPathFor, isPrefixFamily } from './attributes.js';
import { decodeAttributes, encodeAttributes } from './attribute-block.js';
import { BgpError, type UpdateErrorAction } from './errors.js';
import { findBadPrefix } from './nlri.js';
import {
  AFI_IPV4, AttrType, ATTR_FLAG_EXTENDED_LENGTH, ATTR_FLAG_OPTIONAL, ATTR_FLAG_PARTIAL, ATTR_FLAG_TRANSITIVE,
  ErrorCode, HEADER_LEN, HeaderSubcode, MessageType, SAFI_UNICAST, UpdateSubcode,
} from './types.js';
import type { CodecContext } from './types.js';
import { u16, copyBytes } from './util.js';

const EMPTY = new Uint8Array(0);

export class ScannedUpdate {
  /** IPv4 withdrawn routes field: msg[withdrawnStart, withdrawnEnd). */
  withdrawnStart = 0;
  withdrawnEnd = 0;
  /** The whole path attribute field as on the wire (including MP_*): msg[attrStart, attrEnd). */
  attrStart = 0;
  attrEnd = 0;
  /** IPv4 NLRI field: msg[nlriStart, nlriEnd). */
  nlriStart = 0;
  nlriEnd = 0;
  /** Pass-on attribute block (see the module comment); may alias msg. */
  attrs: Uint8Array = EMPTY;
  /** NEXT_HOP value (4 octets, aliases msg) and as uint32; undefined / 0 when absent. */
  nextHop: Uint8Array | undefined = undefined;
  nextHopV4 = 0;
  /**
   * MP_REACH_NLRI (hasMpReach). NLRI are msg[mpReachStart, mpReachEnd); they were validated only for the
   * prefix families (AFI 1/2, SAFI 1/2): check mpReachAfi/mpReachSafi before walking them.
   */
  hasMpReach = false;
  mpReachAfi = 0;
  mpReachSafi = 0;
  /** Next hop of MP_REACH_NLRI (16 or 32 octets for IPv6: global, then link-local); aliases msg. */
  mpNextHop: Uint8Array | undefined = undefined;
  mpReachStart = 0;
  mpReachEnd = 0;
  /** MP_UNREACH_NLRI (hasMpUnreach). Withdrawn prefixes are msg[mpUnreachStart, mpUnreachEnd), same caveat. */
  hasMpUnreach = false;
  mpUnreachAfi = 0;
  mpUnreachSafi = 0;
  mpUnreachStart = 0;
  mpUnreachEnd = 0;
  /** End-of-RIB marker for endOfRibAfi/endOfRibSafi (RFC 4724). */
  isEndOfRib = false;
  endOfRibAfi = 0;
  endOfRibSafi = 0;
  /** RFC 7606 treat-as-withdraw: handle every NLRI of this UPDATE (IPv4 and MP_REACH) as withdrawn. */
  treatAsWithdraw: BgpError | undefined = undefined;
  /** RFC 7606 attribute-discard: attributes left out of `attrs`. */
  discarded: BgpError[] | undefined = undefined;
  /** RFC 4456 loop checks without decoding: ORIGINATOR_ID as uint32; CLUSTER_LIST value msg[clusterListStart, clusterListEnd). */
  hasOriginatorId = false;
  originatorId = 0;
  hasClusterList = false;
  clusterListStart = 0;
  clusterListEnd = 0;
  /** Header offsets of the attributes kept after validation, wire order (MP_* included); attrCount of them. */
  attrOffsets: number[] = [];
  attrCount = 0;
  /** Internal: [start, end) pairs of the pass-on attributes. */
  passRanges: number[] = [];
  passCount = 0;
  needsPartial = false;

  /** True when the UPDATE announces anything (IPv4 NLRI or MP_REACH_NLRI prefixes). */
  get hasReach(): boolean {
    return this.nlriEnd > this.nlriStart || this.mpReachEnd > this.mpReachStart;
  }
}

/** Does the CLUSTER_LIST of a scanned UPDATE contain clusterId (uint32)? RFC 4456 §8 loop check. */
export function clusterListIncludes(msg: Uint8Array, s: ScannedUpdate, clusterId: number): boolean {
  if (!s.hasClusterList) return false;
  for (let o = s.clusterListStart; o + 4 <= s.clusterListEnd; o += 4) {
    if ((((msg[o]! << 24) | (msg[o + 1]! << 16) | (msg[o + 2]! << 8) | msg[o + 3]!) >>> 0) === clusterId >>> 0) return true;
  }
  return false;
}

// Duplicate detection without allocation: seen[type] === generation of the current scan.
const seen = new Uint32Array(256);
let generation = 0;

function attrError(subcode: number, reason: string, action: UpdateErrorAction, msg: Uint8Array, start: number, end: number): BgpError {
  // RFC 4271 §6.3: the data of an attribute error is the whole attribute (type, length, value).
  return new BgpError(ErrorCode.UPDATE_MESSAGE, subcode, reason, { action, data: copyBytes(msg, start, Math.min(end, msg.length)), offset: start });
}

function reset(subcode: number, reason: string, offset: number, data?: Uint8Array): BgpError {
  return new BgpError(ErrorCode.UPDATE_MESSAGE, subcode, reason, { offset, ...(data ? { data } : {}) });
}

/**
 * Validates and locates the parts of one whole UPDATE (header included). Throws BgpError for errors that need
 * a session reset; reports treat-as-withdraw and attribute-discard on the result. See the module comment.
 */
export function scanUpdate(msg: Uint8Array, ctx: CodecContext, out?: ScannedUpdate): ScannedUpdate {
  return walkUpdate(msg, ctx, out ?? new ScannedUpdate(), true);
}

/** The scan itself; `assemble` false skips building `attrs` (decodeMessage does not need it). */
export function walkUpdate(msg: Uint8Array, ctx: CodecContext, s: ScannedUpdate, assemble: boolean): ScannedUpdate {
  const len = msg.length;
  // The session framed msg with frameLength (marker, length range); check that msg is that one UPDATE.
  if (len < HEADER_LEN + 4 || msg[18] !== MessageType.UPDATE || u16(msg, 16) !== len) {
    throw new BgpError(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_MESSAGE_LENGTH,
      `not one whole UPDATE: ${len} octets given, header says type ${msg[18] ?? '-'} length ${len >= 18 ? u16(msg, 16) : '-'}`,
      { data: len >= 18 ? copyBytes(msg, 16, 18) : new Uint8Array(0), offset: 16 });
  }
  const ws = HEADER_LEN + 2;
  const we = ws + u16(msg, HEADER_LEN);
  if (we + 2 > len) {
    throw reset(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, `withdrawn routes length ${we - ws} overruns the UPDATE (${len} octets)`, HEADER_LEN);
  }
  const as = we + 2;
  const ae = as + u16(msg, we);
  if (ae > len) {
    throw reset(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, `total path attribute length ${ae - as} overruns the UPDATE (${len - as} octets left)`, we);
  }
  s.withdrawnStart = ws; s.withdrawnEnd = we;
  s.attrStart = as; s.attrEnd = ae;
  s.nlriStart = ae; s.nlriEnd = len;
  s.attrs = EMPTY;
  s.nextHop = undefined; s.nextHopV4 = 0;
  s.hasMpReach = false; s.hasMpUnreach = false;
  s.mpReachAfi = 0; s.mpReachSafi = 0; s.mpNextHop = undefined; s.mpReachStart = 0; s.mpReachEnd = 0;
  s.mpUnreachAfi = 0; s.mpUnreachSafi = 0; s.mpUnreachStart = 0; s.mpUnreachEnd = 0;
  s.isEndOfRib = false; s.endOfRibAfi = 0; s.endOfRibSafi = 0;
  s.treatAsWithdraw = undefined; s.discarded = undefined;
  s.hasOriginatorId = false; s.originatorId = 0;
  s.hasClusterList = false; s.clusterListStart = 0; s.clusterListEnd = 0;
  s.attrCount = 0; s.passCount = 0; s.needsPartial = false;

  const badW = findBadPrefix(msg, ws, we, 32, ctx.addPathV4);
  if (badW >= 0) throw reset(UpdateSubcode.INVALID_NETWORK_FIELD, `withdrawn route at offset ${badW} is malformed (prefix length > 32 or overrun)`, badW);

  generation = (generation + 1) >>> 0;
  if (generation === 0) { seen.fill(0); generation = 1; }
  const gen = generation;
  let taw: BgpError | undefined;
  let total = 0; // attributes encountered, for End-of-RIB
  let o = as;
  while (o < ae) {
    const start = o;
    const flags = msg[o]!;
    const hdr = flags & ATTR_FLAG_EXTENDED_LENGTH ? 4 : 3;
    if (ae - o < hdr) {
      // RFC 7606 §4: fewer octets left than an attribute header: treat-as-withdraw, NLRI found via total length.
      taw ??= attrError(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, `${ae - o} octet(s) left at the end of the path attributes, too few for an attribute header`, 'treat-as-withdraw', msg, start, ae);
      break;
    }
    const type = msg[o + 1]!;
    const vlen = hdr === 4 ? u16(msg, o + 2) : msg[o + 2]!;
    const vs = o + hdr;
    const ve = vs + vlen;
    total++;
    if (ve > ae) {
      if (type === AttrType.MP_REACH_NLRI || type === AttrType.MP_UNREACH_NLRI) {
        throw attrError(UpdateSubcode.ATTRIBUTE_LENGTH_ERROR, `${type === 14 ? 'MP_REACH_NLRI' : 'MP_UNREACH_NLRI'} length ${vlen} overruns the path attributes`, 'session-reset', msg, start, ae);
      }
      taw ??= attrError(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, `attribute ${type} length ${vlen} overruns the path attributes`, 'treat-as-withdraw', msg, start, ae);
      break;
    }
    o = ve;
    const d = ATTRIBUTES[type];
    if (seen[type] === gen) {
      // RFC 7606 §3 g: MP_* twice resets the session; any other duplicate is discarded.
      if (type === AttrType.MP_REACH_NLRI || type === AttrType.MP_UNREACH_NLRI) {
        throw attrError(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, `${d!.name} appears more than once`, 'session-reset', msg, start, ve);
      }
      (s.discarded ??= []).push(attrError(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, `${d?.name ?? `attribute ${type}`} appears more than once; later copies discarded`, 'attribute-discard', msg, start, ve));
      continue;
    }
    seen[type] = gen;
    if (d === undefined) {
      if ((flags & ATTR_FLAG_OPTIONAL) === 0) {
        taw ??= attrError(UpdateSubcode.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE, `unrecognized well-known attribute ${type}`, 'treat-as-withdraw', msg, start, ve);
        continue;
      }
      s.attrOffsets[s.attrCount++] = start;
      if (flags & ATTR_FLAG_TRANSITIVE) {
        if ((flags & ATTR_FLAG_PARTIAL) === 0) s.needsPartial = true;
        s.passRanges[2 * s.passCount] = start; s.passRanges[2 * s.passCount + 1] = ve; s.passCount++;
      }
      continue;
    }
    if ((flags & 0xc0) !== d.flags) {
      // RFC 7606 §3 c: wrong Optional/Transitive bits make the attribute malformed (treat-as-withdraw),
      // except where the attribute's own rule is stronger (MP_*: reset) or weaker (AS4_*: discard, RFC 6793 §6).
      const action: UpdateErrorAction = d.action === 'treat-as-withdraw' || type === AttrType.ATOMIC_AGGREGATE || type === AttrType.AGGREGATOR
        ? 'treat-as-withdraw' : d.action;
      const err = attrError(UpdateSubcode.ATTRIBUTE_FLAGS_ERROR,
        `${d.name} has flags 0x${flags.toString(16)}; Optional/Transitive must be ${d.flags & 0x80 ? 1 : 0}/${d.flags & 0x40 ? 1 : 0}`, action, msg, start, ve);
      if (action === 'session-reset') throw err;
      if (action === 'attribute-discard') (s.discarded ??= []).push(err);
      else taw ??= err;
      continue;
    }
    const problem = d.check(msg, vs, ve, ctx);
    if (problem !== undefined) {
      const err = attrError(problem.subcode, problem.reason, d.action, msg, start, ve);
      if (d.action === 'session-reset') throw err;
      if (d.action === 'attribute-discard') (s.discarded ??= []).push(err);
      else taw ??= err;
      continue;
    }
    switch (type) {
      case AttrType.MP_REACH_NLRI: {
        s.hasMpReach = true;
        s.mpReachAfi = u16(msg, vs);
        s.mpReachSafi = msg[vs + 2]!;
        const nh = msg[vs + 3]!;
        s.mpNextHop = msg.subarray(vs + 4, vs + 4 + nh);
        s.mpReachStart = vs + 5 + nh;
        s.mpReachEnd = ve;
        s.attrOffsets[s.attrCount++] = start;
        continue;
      }
      case AttrType.MP_UNREACH_NLRI:
        s.hasMpUnreach = true;
        s.mpUnreachAfi = u16(msg, vs);
        s.mpUnreachSafi = msg[vs + 2]!;
        s.mpUnreachStart = vs + 3;
        s.mpUnreachEnd = ve;
        s.attrOffsets[s.attrCount++] = start;
        continue;
      case AttrType.AS4_PATH:
      case AttrType.AS4_AGGREGATOR:
        if (ctx.as4) {
          // RFC 6793 §4.1: a NEW speaker discards AS4_PATH/AS4_AGGREGATOR received from a NEW speaker.
          (s.discarded ??= []).push(attrError(UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, `${d.name} received on a 4-octet AS session; discarded`, 'attribute-discard', msg, start, ve));
          continue;
        }
        break;
      case AttrType.NEXT_HOP:
        s.nextHop = msg.subarray(vs, ve);
        s.nextHopV4 = ((msg[vs]! << 24) | (msg[vs + 1]! << 16) | (msg[vs + 2]! << 8) | msg[vs + 3]!) >>> 0;
        break;
      case AttrType.ORIGINATOR_ID:
        s.hasOriginatorId = true;
        s.originatorId = ((msg[vs]! << 24) | (msg[vs + 1]! << 16) | (msg[vs + 2]! << 8) | msg[vs + 3]!) >>> 0;
        break;
      case AttrType.CLUSTER_LIST:
        s.hasClusterList = true;
        s.clusterListStart = vs;
        s.clusterListEnd = ve;
        break;
    }
    s.attrOffsets[s.attrCount++] = start;
    s.passRanges[2 * s.passCount] = start; s.passRanges[2 * s.passCount + 1] = ve; s.passCount++;
  }

  const badN = findBadPrefix(msg, ae, len, 32, ctx.addPathV4);
  if (badN >= 0) throw reset(UpdateSubcode.INVALID_NETWORK_FIELD, `NLRI at offset ${badN} is malformed (prefix length > 32 or overrun)`, badN);

  // RFC 7606 §3 d: a well-known mandatory attribute missing from an UPDATE that announces routes.
  const reach = len > ae || s.hasMpReach;
  if (taw === undefined && reach) {
    const missing = seen[AttrType.ORIGIN] !== gen ? AttrType.ORIGIN
      : seen[AttrType.AS_PATH] !== gen ? AttrType.AS_PATH
        : len > ae && seen[AttrType.NEXT_HOP] !== gen ? AttrType.NEXT_HOP : 0;
    if (missing !== 0) {
      taw = new BgpError(ErrorCode.UPDATE_MESSAGE, UpdateSubcode.MISSING_WELL_KNOWN_ATTRIBUTE,
        `well-known mandatory attribute ${ATTRIBUTES[missing]!.name} is missing`, { action: 'treat-as-withdraw', data: Uint8Array.of(missing), offset: as });
    }
  }
  s.treatAsWithdraw = taw;

  if (we === ws && len === ae) {
    if (ae === as) { s.isEndOfRib = true; s.endOfRibAfi = AFI_IPV4; s.endOfRibSafi = SAFI_UNICAST; }
    else if (total === 1 && s.hasMpUnreach && s.mpUnreachStart === s.mpUnreachEnd && s.attrCount === 1) {
      s.isEndOfRib = true; s.endOfRibAfi = s.mpUnreachAfi; s.endOfRibSafi = s.mpUnreachSafi;
    }
  }
  if (assemble) assembleAttrs(msg, ctx, s);
  return s;
}

function assembleAttrs(msg: Uint8Array, ctx: CodecContext, s: ScannedUpdate): void {
  const r = s.passRanges;
  if (s.passCount === 0) { s.attrs = EMPTY; return; }
  let block: Uint8Array;
  if (s.passCount === 1 || contiguous(r, s.passCount)) {
    block = msg.subarray(r[0]!, r[2 * s.passCount - 1]!);
  } else {
    let total = 0;
    for (let i = 0; i < s.passCount; i++) total += r[2 * i + 1]! - r[2 * i]!;
    block = new Uint8Array(total);
    let o = 0;
    for (let i = 0; i < s.passCount; i++) {
      block.set(msg.subarray(r[2 * i]!, r[2 * i + 1]!), o);
      o += r[2 * i + 1]! - r[2 * i]!;
    }
  }
  if (s.needsPartial) {
    if (block.buffer === msg.buffer) block = Uint8Array.from(block);
    setPartialOnUnknownTransitive(block);
  }
  if (!ctx.as4) block = encodeAttributes(attributesFromAs2(decodeAttributes(block, ctx)), { ...ctx, as4: true });
  s.attrs = block;
}

function contiguous(r: number[], n: number): boolean {
  for (let i = 1; i < n; i++) if (r[2 * i] !== r[2 * i - 1]) return false;
  return true;
}

/** Sets the Partial bit on every unrecognized optional transitive attribute of a (valid) block, in place. */
export function setPartialOnUnknownTransitive(block: Uint8Array): void {
  let o = 0;
  while (o < block.length) {
    const flags = block[o]!;
    const hdr = flags & ATTR_FLAG_EXTENDED_LENGTH ? 4 : 3;
    const vlen = hdr === 4 ? u16(block, o + 2) : block[o + 2]!;
    if (ATTRIBUTES[block[o + 1]!] === undefined && (flags & (ATTR_FLAG_OPTIONAL | ATTR_FLAG_TRANSITIVE)) === (ATTR_FLAG_OPTIONAL | ATTR_FLAG_TRANSITIVE)) {
      block[o] = flags | ATTR_FLAG_PARTIAL;
    }
    o += hdr + vlen;
  }
}

export { addPathFor, isPrefixFamily };
