// NAMESPACE (calico/node's variable): where BGP password Secrets are read; default kube-system, checked as a
// namespace name, and handed to the Kubernetes source.
import test from 'ava';
import { ConfigError, DEFAULT_SECRET_NAMESPACE, loadConfig } from '../../src/config/index.js';
import { kubernetesSourceFromConfig } from '../../src/app/kubernetes-key-source.js';
import { tmpDir, writeKubeconfig } from './helpers.js';

test('NAMESPACE: default kube-system, a namespace name is taken, anything else is a clear error', (t) => {
  const kc = writeKubeconfig(tmpDir('kc-ns-'), { server: 'https://127.81.3.1:6443', token: 't' });
  const base = { IP: '127.81.3.2', DATASTORE_TYPE: 'kubernetes', KUBECONFIG: kc };
  t.is(DEFAULT_SECRET_NAMESPACE, 'kube-system');
  t.is(loadConfig(base).datastore.secretNamespace, 'kube-system');
  t.is(loadConfig({ ...base, NAMESPACE: '' }).datastore.secretNamespace, 'kube-system', 'empty = unset, as for every variable');
  const cfg = loadConfig({ ...base, NAMESPACE: 'calico-system' });
  t.is(cfg.datastore.secretNamespace, 'calico-system');
  t.is(kubernetesSourceFromConfig(cfg).secretNamespace, 'calico-system');
  for (const bad of ['Kube-System', 'a/b', '-x', 'x'.repeat(64)]) {
    const err = t.throws(() => loadConfig({ ...base, NAMESPACE: bad }), { instanceOf: ConfigError });
    t.regex(err!.message, /NAMESPACE.*is not a Kubernetes namespace name/);
  }
});
