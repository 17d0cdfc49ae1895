// The Kubernetes datastore's source from a loaded Config; its own module so that key-source.ts imports it (and
// with it the Kubernetes client and the YAML parser) only when DATASTORE_TYPE=kubernetes.
import type { Config } from '../config/index.js';
import { createKubernetesSource, type KubernetesKeySource, type KubernetesSourceOptions } from '../datastore/kubernetes/kubernetes-source.js';

/**
 * The source for a loaded Config (DATASTORE_TYPE=kubernetes): KUBECONFIG or in-cluster, IP/IP6, and the
 * self-registration switch (RR_REGISTER / RR_CLUSTER_ID) with its TTL as the Lease duration.
 */
export function kubernetesSourceFromConfig(config: Pick<Config, 'identity' | 'datastore'>, extra: Partial<KubernetesSourceOptions> = {}): KubernetesKeySource {
  const { identity, datastore: ds } = config;
  return createKubernetesSource({
    kubeconfigPath: ds.kubeconfig,
    register: ds.register !== undefined,
    ip: identity.ip,
    ip6: identity.ip6,
    clusterId: ds.register?.clusterId,
    leaseDurationSeconds: ds.register?.ttlSeconds,
    secretNamespace: ds.secretNamespace,
    ...extra,
  });
}
