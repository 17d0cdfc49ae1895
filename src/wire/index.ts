// Public face of the BGP wire codec: re-exports every module of src/wire (pure functions, no I/O).
// Import from here: `import { decodeMessage, scanUpdate, BgpError } from '../wire/index.js'`.
export * from './types.js';
export * from './errors.js';
export * from './header.js';
export * from './capabilities.js';
export * from './open.js';
export * from './notification.js';
export * from './update.js';
export * from './message.js';
export { ipv4ToString, ipv4ToUint32, uint32ToIpv4, hex } from './util.js';
