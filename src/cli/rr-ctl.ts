#!/usr/bin/env node
// rr-ctl: a small client for the reflector's BIRD-compatible control sockets, for hosts without birdc.
// Usage: rr-ctl [-s SOCKET] [-6] COMMAND...   (prints the reply the way birdc does; exit 1 on a 8xxx/9xxx reply)
import net from 'node:net';
import path from 'node:path';
import { DEFAULTS } from '../config/defaults.js';
import { packageVersion } from './version.js';

const USAGE = `usage: rr-ctl [-s SOCKET] [-6] COMMAND...
       rr-ctl --help | --version
  Sends COMMAND to the reflector's BIRD-compatible control socket and prints the reply as birdc does
  (e.g. rr-ctl show protocols; rr-ctl show route count).
  -s SOCKET   the socket (default: $SOCKET_DIR/bird.ctl, SOCKET_DIR defaults to ${DEFAULTS.SOCKET_DIR.value})
  -6          the IPv6 socket ($SOCKET_DIR/bird6.ctl)
  --help, -h  this text;  --version  the package version
  exit status: 0 reply ok, 1 error reply (8xxx/9xxx), no socket or no reply in 30 s, 2 usage error`;

interface Args {
  socket: string;
  command: string;
}

function parseArgs(argv: string[]): Args {
  let socket: string | undefined;
  let v6 = false;
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-s') socket = argv[++i];
    else if (a === '-6') v6 = true;
    else if (a === '-h' || a === '--help') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else if (a === '--version') {
      process.stdout.write(`rr-ctl ${packageVersion()}\n`);
      process.exit(0);
    } else if (!a.startsWith('-') || words.length > 0) words.push(a);
    else {
      process.stderr.write(`rr-ctl: unknown option ${a}\n${USAGE}\n`);
      process.exit(2);
    }
  }
  const dir = process.env.SOCKET_DIR ?? DEFAULTS.SOCKET_DIR.value;
  return { socket: socket ?? path.join(dir, v6 ? 'bird6.ctl' : 'bird.ctl'), command: words.join(' ') };
}

/** One reply line of the BIRD protocol: "DDDD-text", "DDDD text" (last) or " text" (continuation). */
export function parseReplyLine(line: string): { code: number | undefined; last: boolean; text: string } {
  const m = /^(\d{4})([ -])(.*)$/.exec(line);
  if (m) return { code: Number(m[1]), last: m[2] === ' ', text: m[3] };
  return { code: undefined, last: false, text: line.startsWith(' ') || line.startsWith('+') ? line.slice(1) : line };
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  if (args.command === '') {
    process.stderr.write(`rr-ctl: no command given (try: rr-ctl show protocols)\n${USAGE}\n`);
    process.exit(2);
  }
  const sock = net.createConnection(args.socket);
  let buffered = '';
  let greeted = false;
  let failed = false;
  const timer = setTimeout(() => {
    process.stderr.write(`rr-ctl: no complete reply from ${args.socket} within 30 s\n`);
    process.exit(1);
  }, 30_000);
  sock.setEncoding('utf8');
  sock.on('error', (err) => {
    process.stderr.write(`rr-ctl: ${args.socket}: ${err.message}\n`);
    process.exit(1);
  });
  sock.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      const r = parseReplyLine(line);
      if (!greeted) {
        greeted = true;
        sock.write(`${args.command}\n`);
        continue;
      }
      if (r.code !== undefined && r.code >= 8000) failed = true;
      if (r.code !== 0 || r.text !== '') process.stdout.write(`${r.text}\n`);
      if (r.last) {
        clearTimeout(timer);
        sock.end();
        process.exitCode = failed ? 1 : 0;
        return;
      }
    }
  });
}

main();
