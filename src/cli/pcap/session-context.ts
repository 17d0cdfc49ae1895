// The decoding context of each direction of a captured session, from the two OPENs it holds: what a
// speaker would have negotiated (RFC 6793 4-octet AS, RFC 7911 ADD-PATH, RFC 8654 extended messages).
// Pure.
import { decodeMessage } from '../../wire/message.js';
import { frameLength } from '../../wire/header.js';
import {
  AFI_IPV4, AFI_IPV6, DEFAULT_CONTEXT, MAX_EXTENDED_MESSAGE_LEN, MessageType, SAFI_UNICAST,
  type Capability, type CodecContext, type OpenMessage,
} from '../../wire/types.js';

/** The OPEN at the start of a direction's stream, if the capture has it and it decodes. */
export function leadingOpen(bytes: Uint8Array): OpenMessage | undefined {
  try {
    const len = frameLength(bytes, 0, MAX_EXTENDED_MESSAGE_LEN);
    if (len === 0) return undefined;
    // An OPEN decodes the same under any context.
    const m = decodeMessage(bytes.subarray(0, len), DEFAULT_CONTEXT);
    return m.type === MessageType.OPEN ? m : undefined;
  } catch {
    return undefined;
  }
}

const caps = (o: OpenMessage): Capability[] => o.parameters.flatMap((p) => ('capabilities' in p ? p.capabilities : []));

/** Unicast AFIs of an OPEN (IPv4 only without any multiprotocol capability, RFC 4760). */
function afis(c: Capability[]): number[] {
  const mp = c.flatMap((x) => (x.kind === 'multiprotocol' && x.safi === SAFI_UNICAST ? [x.afi] : []));
  return mp.length === 0 ? [AFI_IPV4] : mp;
}

function addPathBits(c: Capability[], afi: number): number {
  let bits = 0;
  for (const x of c) if (x.kind === 'add-path') for (const f of x.families) if (f.afi === afi && f.safi === SAFI_UNICAST) bits = f.sendReceive;
  return bits;
}

/**
 * The context of the direction from `sender` to `receiver`; undefined when either OPEN is missing (a capture
 * started inside the session), so the caller falls back to its default.
 */
export function directionContext(sender: OpenMessage | undefined, receiver: OpenMessage | undefined): CodecContext | undefined {
  if (sender === undefined || receiver === undefined) return undefined;
  const s = caps(sender);
  const r = caps(receiver);
  const both = (kind: Capability['kind']): boolean => s.some((x) => x.kind === kind) && r.some((x) => x.kind === kind);
  const common = afis(s).filter((a) => afis(r).includes(a));
  // RFC 7911 §4: path identifiers flow where the sender can send and the receiver can receive.
  const addPath = (afi: number): boolean => common.includes(afi) && (addPathBits(s, afi) & 2) !== 0 && (addPathBits(r, afi) & 1) !== 0;
  return {
    as4: both('as4'),
    addPathV4: addPath(AFI_IPV4),
    addPathV6: addPath(AFI_IPV6),
    maxMessageLen: both('extended-message') ? MAX_EXTENDED_MESSAGE_LEN : DEFAULT_CONTEXT.maxMessageLen,
  };
}
