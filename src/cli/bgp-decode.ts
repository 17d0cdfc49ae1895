#!/usr/bin/env node
// bgp-decode: prints the BGP messages of a capture file (pcap, pcapng) or of a raw one-direction byte stream
// (FILE, or stdin) as JSON lines. Argument parsing and I/O only; the decoding is decode-stream.ts and pcap/.
import { readFileSync } from 'node:fs';
import { decodeStream } from './decode-stream.js';
import { captureFormat, decodeCapture, readCapture } from './pcap/decode-capture.js';
import { packageVersion } from './version.js';
import { MAX_EXTENDED_MESSAGE_LEN, type CodecContext } from '../wire/types.js';

const USAGE = `usage: bgp-decode [--as2] [--add-path ipv4,ipv6] [--max-length N] [--context FILE.json] [FILE]
       bgp-decode --help | --version
  Prints one JSON object per BGP message of FILE (or stdin), which is either
  - a capture file, pcap or pcapng (tcpdump -w, tshark -w; told apart by its magic number): every TCP
    connection on port 179 (or whose data starts with a BGP marker) is reassembled per direction, and each
    line starts with "frame" and "time" (where the message completed), "conn" (1, 2, ... in order of
    appearance), "from" and "to" ("addr:port", "[v6addr]:port"). Each direction is decoded with what its
    two OPENs negotiate (4-octet AS, ADD-PATH, extended messages) unless an option below says otherwise;
    octets missing from the capture give an error line;
  - or a raw stream of BGP messages as sent on one TCP direction.
  A malformed message prints {"error","offset","notification":{"code","subcode"}} and decoding resumes at
  the next header after its start (a length field too large hides no message).
  --as2            decode as on a session without the 4-octet AS capability (2-octet AS_PATH/AGGREGATOR)
  --add-path LIST  ADD-PATH path identifiers are present for these families (ipv4, ipv6)
  --max-length N   largest message accepted (default 65535, RFC 8654; 4096 without extended messages)
  --context FILE   take as4/addPathV4/addPathV6/maxMessageLen from a JSON file (as in proto-fixtures)
  --help, -h       this text;  --version  the package version
  exit status: 0 all messages decoded, 1 some did not (or the capture is damaged), 2 usage or input error`;

type Parsed =
  | { ctx: CodecContext; explicit: boolean; file?: string }
  | { error: string }
  | { help: true }
  | { version: true };

export function parseArgs(argv: readonly string[]): Parsed {
  const ctx: CodecContext = { as4: true, addPathV4: false, addPathV6: false, maxMessageLen: MAX_EXTENDED_MESSAGE_LEN };
  let explicit = false;
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--as2') {
      ctx.as4 = false;
      explicit = true;
    } else if (a === '--add-path') {
      const list = argv[++i];
      if (list === undefined) return { error: '--add-path needs a list' };
      for (const f of list.split(',')) {
        if (f === 'ipv4') ctx.addPathV4 = true;
        else if (f === 'ipv6') ctx.addPathV6 = true;
        else if (f !== '') return { error: `unknown family ${f} (ipv4, ipv6)` };
      }
      explicit = true;
    } else if (a === '--max-length') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 4096 || n > MAX_EXTENDED_MESSAGE_LEN) return { error: '--max-length must be 4096..65535' };
      ctx.maxMessageLen = n;
      explicit = true;
    } else if (a === '--context') {
      const path = argv[++i];
      if (path === undefined) return { error: '--context needs a file' };
      let c: unknown;
      try {
        c = JSON.parse(readFileSync(path, 'utf8'));
      } catch (e) {
        return { error: `cannot read context ${path}: ${e instanceof Error ? e.message : String(e)}` };
      }
      if (typeof c !== 'object' || c === null) return { error: `context ${path} is not an object` };
      const o = c as Record<string, unknown>;
      if (typeof o.as4 === 'boolean') ctx.as4 = o.as4;
      if (typeof o.addPathV4 === 'boolean') ctx.addPathV4 = o.addPathV4;
      if (typeof o.addPathV6 === 'boolean') ctx.addPathV6 = o.addPathV6;
      if (typeof o.maxMessageLen === 'number') ctx.maxMessageLen = o.maxMessageLen;
      explicit = true;
    } else if (a === '-h' || a === '--help') return { help: true };
    else if (a === '--version') return { version: true };
    else if (a.startsWith('-') && a !== '-') return { error: `unknown option ${a}` };
    else if (file !== undefined) return { error: 'only one FILE' };
    else file = a;
  }
  return file === undefined || file === '-' ? { ctx, explicit } : { ctx, explicit, file };
}

function main(): number {
  const p = parseArgs(process.argv.slice(2));
  if ('help' in p) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if ('version' in p) {
    process.stdout.write(`bgp-decode ${packageVersion()}\n`);
    return 0;
  }
  if ('error' in p) {
    process.stderr.write(`bgp-decode: ${p.error}\n${USAGE}\n`);
    return 2;
  }
  let input: Buffer;
  try {
    input = readFileSync(p.file ?? 0);
  } catch (e) {
    process.stderr.write(`bgp-decode: cannot read ${p.file ?? 'stdin'}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  const name = p.file ?? 'stdin';
  let failed = false;
  const out: string[] = [];
  if (captureFormat(input) !== undefined) {
    const cap = readCapture(input);
    const d = decodeCapture(cap, { ...(p.explicit ? { ctx: p.ctx } : {}), fallback: p.ctx });
    for (const rec of d.records) out.push(JSON.stringify(rec));
    failed = d.failed;
    // Said on stderr, so that stdout stays one message per line: what stopped the reading, and frames of a
    // kind bgp-decode cannot read (a link type it does not know would otherwise look like an empty capture).
    if (cap.error) process.stderr.write(`bgp-decode: ${name}: ${cap.format} damaged at offset ${cap.error.offset}: ${cap.error.message}; ${cap.frames.length} frames before it decoded\n`);
    for (const [why, n] of d.skipped) if (why.startsWith('link type')) process.stderr.write(`bgp-decode: ${name}: ${n} frames skipped: ${why}\n`);
  } else {
    for (const rec of decodeStream(input, p.ctx)) {
      if ('error' in rec) failed = true;
      out.push(JSON.stringify(rec));
    }
  }
  process.stdout.write(out.length > 0 ? `${out.join('\n')}\n` : '');
  return failed ? 1 : 0;
}

process.exitCode = main();
