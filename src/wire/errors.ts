// The one protocol error type the codec throws: what NOTIFICATION to send (code/subcode/data),
// the RFC 7606 action for UPDATE errors, and an operator-readable explanation. Depends on nothing else in
// src/wire, so every codec module (types.ts included) may import it.

/** RFC 7606 §2 actions for an error in an UPDATE's attributes. */
export type UpdateErrorAction = 'session-reset' | 'afi-safi-disable' | 'treat-as-withdraw' | 'attribute-discard';

export interface BgpErrorOptions {
  /** NOTIFICATION data field (RFC 4271 §4.5), e.g. the erroneous attribute or length field. */
  data?: Uint8Array;
  /** RFC 7606 action; anything that is not an UPDATE attribute error is a session reset. */
  action?: UpdateErrorAction;
  /** Offset in the message (from the first marker byte) where the problem was found. */
  offset?: number;
}

const EMPTY = new Uint8Array(0);

export class BgpError extends Error {
  readonly code: number;
  readonly subcode: number;
  readonly data: Uint8Array;
  readonly action: UpdateErrorAction;
  readonly offset?: number;

  constructor(code: number, subcode: number, message: string, opts: BgpErrorOptions = {}) {
    super(message);
    this.name = 'BgpError';
    this.code = code;
    this.subcode = subcode;
    this.data = opts.data ?? EMPTY;
    this.action = opts.action ?? 'session-reset';
    if (opts.offset !== undefined) this.offset = opts.offset;
  }

  /** True when the session must be torn down with a NOTIFICATION carrying code/subcode/data. */
  get resetsSession(): boolean {
    return this.action === 'session-reset' || this.action === 'afi-safi-disable';
  }
}

export function isBgpError(e: unknown): e is BgpError {
  return e instanceof BgpError;
}
