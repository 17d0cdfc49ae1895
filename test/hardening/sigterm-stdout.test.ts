// SIGTERM must stop the reflector within its deadline (5 s) whatever stdout does: here stdout is a FIFO (what
// container runtimes give a container) that nobody reads, filled to the brim with log lines at LOG_LEVEL=trace before the signal. The reflector must
// keep working meanwhile (its control socket answers), exit within the deadline, and its BGP peer (a real
// BIRD 2) must receive the Cease. Oracles: the kernel's count of bytes waiting in the pipe (FIONREAD), the exit
// time, and BIRD's own `show protocols all`.
import test from 'ava';
import { closeSync, constants, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { claimLoopbackNet, freePort } from '../helpers/net.js';
import { nodeTs, runChild, spawnChild } from '../helpers/child.js';
import { until } from '../helpers/until.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIRD2 = '/opt/bird2/usr/sbin/bird';
const BIRDC2 = '/opt/bird2/usr/sbin/birdc';
const AS = 64512;
const children: ChildProcess[] = [];

test.after.always(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function birdc(sock: string, ...args: string[]): string {
  const r = runChild(BIRDC2, ['-s', sock, ...args], { encoding: 'utf8', timeout: 5000 });
  return r.stdout + r.stderr;
}

/** Bytes waiting in the FIFO whose read end this process holds as `fd` (FIONREAD; nothing is read). */
function pipeFill(fd: number): number {
  const r = runChild('/usr/bin/python3', ['-c',
    'import fcntl,termios,array,sys,os\nf=os.open(sys.argv[1],os.O_RDONLY|os.O_NONBLOCK)\nb=array.array("i",[0])\nfcntl.ioctl(f,termios.FIONREAD,b,True)\nprint(b[0])',
    `/proc/${process.pid}/fd/${fd}`], { encoding: 'utf8', timeout: 5000 });
  return Number(r.stdout.trim());
}

test('SIGTERM with a full, unread stdout pipe: exits within the deadline and the peer gets a Cease', async (t) => {
  const lab = await claimLoopbackNet();
  const RR = lab.host(1);
  const NODE = lab.host(2);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rr-sigterm-'));
  const ds = path.join(dir, 'datastore.json');
  const base = {
    '/calico/bgp/v1/global/as_num': String(AS),
    [`/calico/bgp/v1/global/peer_v4/${RR}`]: { ip: RR, as_num: String(AS) },
    '/calico/bgp/v1/host/node0/ip_addr_v4': NODE,
  };
  writeFileSync(ds, JSON.stringify(base));
  const fifo = path.join(dir, 'stdout.fifo');
  t.is(runChild('mkfifo', [fifo], {}).status, 0);
  // The read end stays open in this process and is never read; the child writes into the other end.
  const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeFd = openSync(fifo, constants.O_WRONLY);
  t.teardown(() => closeSync(readFd));
  const [cmd, args] = nodeTs('src/main.ts');
  const rr = spawnChild(cmd, args, {
    cwd: ROOT,
    env: { IP: RR, DATASTORE_TYPE: 'file', DATASTORE_FILE: ds, SOCKET_DIR: dir, LOG_LEVEL: 'trace', METRICS_LISTEN: `${RR}:${await freePort(RR)}` },
    stdio: ['ignore', writeFd, 'pipe'],
  });
  closeSync(writeFd);
  children.push(rr);
  let err = '';
  rr.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => rr.once('exit', (code) => r(code)));

  const birdDir = mkdtempSync(path.join(os.tmpdir(), 'rr-sigterm-bird-'));
  writeFileSync(path.join(birdDir, 'bird.cfg'), `router id ${NODE};
protocol device { scan time 2; }
protocol static { ipv4; route 10.66.8.0/26 blackhole; }
protocol bgp toRR {
  local ${NODE} port 179 as ${AS};
  strict bind yes;
  neighbor ${RR} port 179 as ${AS};
  multihop;
  graceful restart on;
  hold time 30;
  connect delay time 1;
  connect retry time 30;
  error wait time 30,60;
  ipv4 { import all; export all; next hop self; gateway recursive; };
}
`);
  const sock = path.join(birdDir, 'bird.ctl');
  children.push(spawnChild(BIRD2, ['-f', '-c', 'bird.cfg', '-s', sock, '-P', 'bird.pid'], { cwd: birdDir }));
  await until('BIRD to establish', () => (/toRR\s+BGP.*Established/.test(birdc(sock, 'show', 'protocols')) ? true : undefined), 40_000, 250);

  // Fill the pipe: one refusal line per unknown address (the first of each is logged), from 747 addresses of
  // three loopback /24s: about 150 KB of lines against the FIFO's 64 KiB.
  const nets = [lab, await claimLoopbackNet(), await claimLoopbackNet()];
  const sources = nets.flatMap((n, i) => Array.from({ length: 249 }, (_, k) => n.host(k + 1)).filter((a) => i > 0 || (a !== RR && a !== NODE)));
  for (let i = 0; i < sources.length; i += 50) {
    await Promise.all(sources.slice(i, i + 50).map((src) => new Promise<void>((resolve) => {
      const c = net.connect({ host: RR, port: 179, localAddress: src });
      c.on('error', () => undefined);
      c.resume();
      const timer = setTimeout(() => c.destroy(), 2000);
      c.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    })));
  }
  // Full: at least 48 KiB waiting and no more taken for a second (a 64 KiB pipe stops taking a writer's chunks
  // somewhat short of 65,536 bytes).
  let last = -1;
  const fill = await until('the stdout pipe to be full', () => {
    const n = pipeFill(readFd);
    const full = n >= 48 * 1024 && n === last;
    last = n;
    return full ? n : undefined;
  }, 30_000, 1000);
  t.log(`stdout pipe holds ${fill} bytes, unread`);
  // Still working with stdout stalled: the control socket answers, the session stays up.
  await new Promise((r) => setTimeout(r, 1000));
  t.regex(birdc(path.join(dir, 'bird.ctl'), 'show', 'protocols'), /Global_\S+\s+BGP\s+.*Established/);

  const t0 = Date.now();
  rr.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 8000))]);
  const secs = (Date.now() - t0) / 1000;
  t.log(`exit ${String(code)} after ${secs.toFixed(2)} s`);
  t.not(code, 'hung', `still running 8 s after SIGTERM; stderr: ${err}`);
  t.true(secs < 6, 'within the 5 s deadline (plus scheduling slack)');
  t.is(code, 0, 'a clean stop, not the deadline');
  // BIRD saw our Cease (administrative shutdown), not a dropped connection or a hold timer expiry.
  const all = await until('BIRD to see the session go', () => {
    const s = birdc(sock, 'show', 'protocols', 'all', 'toRR');
    return /Established/.test(s) ? undefined : s;
  }, 10_000, 200);
  t.regex(all, /Received: Administrative shutdown/);
});
