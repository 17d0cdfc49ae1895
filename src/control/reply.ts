// Reply framing of the BIRD CLI protocol: 4-digit codes, `-`/space/continuation prefixes, line limits.
// One ReplyEncoder per connection, because the continuation shorthand depends on the previous line sent.

/** One line of a reply before framing; `last` marks the line that completes the reply (code + space). */
export interface ReplyLine {
  code: number;
  text: string;
  last?: boolean;
}

/** BIRD 1.6: "0001 BIRD 1.6.8 ready." is written on accept, in one write. */
export const BIRD_VERSION = '1.6.8';
export const GREETING = `0001 BIRD ${BIRD_VERSION} ready.\n`;

/** CLI_LINE_SIZE: a formatted line (prefix + text + NUL) must fit in 512 bytes, else "<line overflow>". */
const CLI_LINE_SIZE = 512;

export const line = (code: number, text: string): ReplyLine => ({ code, text });
export const final = (code: number, text: string): ReplyLine => ({ code, text, last: true });

const code4 = (code: number): string => String(code).padStart(4, '0');

/**
 * Turns reply lines into wire text the way cli_printf does: a not-last line repeats its code as
 * `DDDD-` only when it differs from the previous line's code (else a single space); the last line
 * is always `DDDD ` + text, even when the text is empty (`0000 `).
 */
export class ReplyEncoder {
  private lastCode = -1;

  encode(l: ReplyLine): string {
    let { code, text } = l;
    const prefixLength = l.last === true || code !== this.lastCode ? 5 : 1;
    if (Buffer.byteLength(text) > CLI_LINE_SIZE - prefixLength - 2) {
      code = 8000;
      text = '<line overflow>';
    }
    let prefix: string;
    if (l.last === true) prefix = `${code4(code)} `;
    else prefix = code === this.lastCode ? ' ' : `${code4(code)}-`;
    this.lastCode = code;
    return `${prefix}${text}\n`;
  }

  encodeAll(lines: Iterable<ReplyLine>): string {
    let out = '';
    for (const l of lines) out += this.encode(l);
    return out;
  }
}
