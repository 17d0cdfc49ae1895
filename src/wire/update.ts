// UPDATE message (RFC 4271 §4.3) to and from the structured model. TEMPORARY: filled in next.
import { BgpError } from './errors.js';
import type { CodecContext, UpdateMessage } from './types.js';

export function decodeUpdate(_msg: Uint8Array, _ctx: CodecContext): UpdateMessage {
  throw new BgpError(3, 0, 'UPDATE decoding not yet implemented');
}

export function encodeUpdate(_m: UpdateMessage, _ctx: CodecContext): Buffer {
  throw new BgpError(3, 0, 'UPDATE encoding not yet implemented');
}
