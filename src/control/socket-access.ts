// Who may use the control sockets: SOCKET_OWNER, SOCKET_GROUP and SOCKET_MODE (BIRD's -u/-g and its fixed 0660).
// A bird_exporter sidecar runs under its own uid, so the sockets must carry a group it is in (the pod's fsGroup)
// and a mode that lets that group connect (connecting to a unix socket needs write permission on it).
// Numeric ids only: the image has no user database for the sidecar's group, and a name would silently
// resolve to nothing there.

export interface SocketAccess {
  /** File mode of bird.ctl / bird6.ctl (default 0o660, as BIRD creates them). */
  mode: number;
  /** chown owner (only root may change it); undefined: the process's own uid. */
  uid?: number;
  /** chown group (the process must be in it, e.g. the pod's fsGroup); undefined: as created. */
  gid?: number;
}

export const SOCKET_ACCESS_VARIABLES = ['SOCKET_OWNER', 'SOCKET_GROUP', 'SOCKET_MODE'] as const;

export const DEFAULT_SOCKET_MODE = 0o660;

export class SocketAccessError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'SocketAccessError';
  }
}

const MAX_ID = 0xfffffffe; // (uid_t)-1 means "leave unchanged" to chown(2): not an id.

function id(name: string, raw: string | undefined, problems: string[]): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const v = raw.trim();
  if (!/^\d+$/.test(v) || Number(v) > MAX_ID) {
    problems.push(`${name}: ${JSON.stringify(raw)} is not a numeric id (0-${MAX_ID}); names are not looked up`);
    return undefined;
  }
  return Number(v);
}

/** Reads the three variables; every problem at once in a SocketAccessError. */
export function loadSocketAccess(env: Readonly<Record<string, string | undefined>>): SocketAccess {
  const problems: string[] = [];
  const uid = id('SOCKET_OWNER', env.SOCKET_OWNER, problems);
  const gid = id('SOCKET_GROUP', env.SOCKET_GROUP, problems);
  let mode = DEFAULT_SOCKET_MODE;
  const rawMode = env.SOCKET_MODE;
  if (rawMode !== undefined && rawMode.trim() !== '') {
    const m = rawMode.trim();
    if (!/^0?[0-7]{3}$/.test(m)) {
      problems.push(`SOCKET_MODE: ${JSON.stringify(rawMode)} is not an octal file mode such as 0660`);
    } else {
      mode = parseInt(m, 8);
      // Without the owner's write bit even our own tools (rr-ctl, birdc as the same uid) could not connect.
      if ((mode & 0o200) === 0) problems.push(`SOCKET_MODE: ${m} leaves the owner without write permission: nobody of that uid could connect`);
    }
  }
  if (problems.length > 0) throw new SocketAccessError(problems);
  return { mode, ...(uid !== undefined ? { uid } : {}), ...(gid !== undefined ? { gid } : {}) };
}

export function describeSocketAccess(a: SocketAccess): string {
  return `mode ${a.mode.toString(8).padStart(4, '0')}, owner ${a.uid ?? 'own uid'}, group ${a.gid ?? 'as created'}`;
}
