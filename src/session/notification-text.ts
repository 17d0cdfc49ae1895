// Human-readable names of NOTIFICATION codes and subcodes (RFC 4271 §4.5, RFC 4486, RFC 6608, RFC 7313)
// for log lines and the control socket's "Last error" text.

const CODES: Record<number, [string, Record<number, string>]> = {
  1: ['Message header error', { 1: 'Connection not synchronized', 2: 'Bad message length', 3: 'Bad message type' }],
  2: ['OPEN message error', {
    1: 'Unsupported version number', 2: 'Bad peer AS', 3: 'Bad BGP identifier', 4: 'Unsupported optional parameter',
    6: 'Unacceptable hold time', 7: 'Unsupported capability', 11: 'Role mismatch',
  }],
  3: ['UPDATE message error', {
    1: 'Malformed attribute list', 2: 'Unrecognized well-known attribute', 3: 'Missing mandatory attribute',
    4: 'Attribute flags error', 5: 'Attribute length error', 6: 'Invalid ORIGIN attribute', 8: 'Invalid NEXT_HOP attribute',
    9: 'Optional attribute error', 10: 'Invalid network field', 11: 'Malformed AS_PATH',
  }],
  4: ['Hold timer expired', {}],
  5: ['Finite state machine error', {
    1: 'Unexpected message in OpenSent state', 2: 'Unexpected message in OpenConfirm state', 3: 'Unexpected message in Established state',
  }],
  6: ['Cease', {
    1: 'Maximum number of prefixes reached', 2: 'Administrative shutdown', 3: 'Peer de-configured', 4: 'Administrative reset',
    5: 'Connection rejected', 6: 'Other configuration change', 7: 'Connection collision resolution', 8: 'Out of resources',
    9: 'Hard reset', 10: 'BFD down',
  }],
  7: ['ROUTE-REFRESH message error', { 1: 'Invalid message length' }],
};

/** "Cease: Connection rejected", "Hold timer expired", "Error code 9 subcode 1" for unknown ones. */
export function describeNotification(code: number, subcode: number): string {
  const entry = CODES[code];
  if (!entry) return `Error code ${code} subcode ${subcode}`;
  const [name, subs] = entry;
  const sub = subs[subcode];
  if (sub) return `${name}: ${sub}`;
  return subcode === 0 ? name : `${name}: subcode ${subcode}`;
}
