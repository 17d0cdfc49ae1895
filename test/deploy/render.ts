// Renders a kustomize overlay of deploy/kubernetes with the real kubectl (its built-in kustomize) and parses
// the result, so the tests check exactly what `kubectl apply -k` would send.
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { runChild } from '../helpers/child.js';

export const KUBECTL = '/opt/kubernetes-client/usr/bin/kubectl';
export const DEPLOY_DIR = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url));
export const OVERLAYS = ['etcd', 'kubernetes'] as const;
export type Overlay = (typeof OVERLAYS)[number];

export type Doc = Record<string, unknown>;
export const isObj = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);
export const list = (v: unknown): Doc[] => (Array.isArray(v) ? v.filter(isObj) : []);
export function at(o: unknown, ...keys: (string | number)[]): unknown {
  let cur: unknown = o;
  for (const k of keys) {
    if (Array.isArray(cur) && typeof k === 'number') cur = cur[k];
    else if (isObj(cur) && typeof k === 'string') cur = cur[k];
    else return undefined;
  }
  return cur;
}

/** `kubectl kustomize deploy/kubernetes/overlays/<overlay>`, parsed; throws with kubectl's stderr on failure. */
export function render(overlay: Overlay): Doc[] {
  const r = runChild(KUBECTL, ['kustomize', `${DEPLOY_DIR}overlays/${overlay}`], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`kubectl kustomize overlays/${overlay} failed (${r.status}): ${r.stderr}`);
  const docs: Doc[] = [];
  for (const d of parseAllDocuments(r.stdout)) {
    if (d.errors.length > 0) throw new Error(`overlays/${overlay}: ${d.errors.map((e) => e.message).join('; ')}`);
    const js: unknown = d.toJS();
    if (isObj(js)) docs.push(js);
  }
  return docs;
}

/** The reflector's DaemonSet, its pod spec and both containers, of one rendered overlay. */
export function reflectorPod(docs: Doc[]): { ds: Doc | undefined; pod: unknown; rr: Doc | undefined; exporter: Doc | undefined } {
  const ds = docs.find((d) => d.kind === 'DaemonSet');
  const pod = at(ds, 'spec', 'template', 'spec');
  const containers = list(at(pod, 'containers'));
  return {
    ds,
    pod,
    rr: containers.find((c) => String(c.image).includes('route-reflector')),
    exporter: containers.find((c) => String(c.image).includes('bird_exporter')),
  };
}
