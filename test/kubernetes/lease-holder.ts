// Child process for the SIGKILL test: one registered reflector (KUBECONFIG, RR_IP, LEASE_SECONDS from the
// environment) that prints "snapshot" once it has its first key set and then runs until killed.
import { createKubernetesSource } from '../../src/datastore/kubernetes/kubernetes-source.js';

const src = createKubernetesSource({
  kubeconfigPath: process.env.KUBECONFIG,
  register: true,
  ip: process.env.RR_IP ?? '',
  leaseDurationSeconds: Number(process.env.LEASE_SECONDS ?? '2'),
  initialBackoffMs: 50,
  maxBackoffMs: 500,
});
await src.start({
  snapshot: () => process.stdout.write('snapshot\n'),
  change: () => undefined,
  problem: (m) => process.stderr.write(`${m}\n`),
});
setInterval(() => undefined, 1 << 30);
