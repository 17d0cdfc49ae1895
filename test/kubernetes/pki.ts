// Test PKI made with the real openssl: a CA, a server certificate for a loopback IP and client certificates
// (CN = Kubernetes user name), all under a fresh temporary folder.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChild } from '../helpers/child.js';

export interface Pki {
  dir: string;
  caCert: string;
  caCertPath: string;
  serverKey: string;
  serverCert: string;
  /** Issues a client certificate for `user`; returns PEM texts and file paths. */
  client(user: string): { cert: string; key: string; certPath: string; keyPath: string };
}

function openssl(args: string[], cwd: string): void {
  const r = runChild('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

export function makePki(serverIp: string): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-pki-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=fake-kubernetes-ca'], dir);
  const sign = (name: string, subj: string, ext: string): void => {
    openssl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subj], dir);
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(
      ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`,
        '-days', '2', '-extfile', `${name}.ext`],
      dir,
    );
  };
  sign('server', '/CN=fake-apiserver', `subjectAltName=IP:${serverIp},DNS:localhost\nextendedKeyUsage=serverAuth\n`);
  const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
  return {
    dir,
    caCert: read('ca.crt'),
    caCertPath: join(dir, 'ca.crt'),
    serverKey: read('server.key'),
    serverCert: read('server.crt'),
    client(user: string) {
      const name = `client-${user.replace(/[^a-z0-9-]/gi, '_')}`;
      sign(name, `/CN=${user}/O=route-reflectors`, 'extendedKeyUsage=clientAuth\n');
      return { cert: read(`${name}.crt`), key: read(`${name}.key`), certPath: join(dir, `${name}.crt`), keyPath: join(dir, `${name}.key`) };
    },
  };
}
