export { isCapsuleAccessRefusal } from './capsule-access.js';
export { type CapsuleHeader } from './header.js';
export { openCapsule } from './open-capsule.js';
export type { CapsuleReader, CapsuleSummary, IntegrityStatus } from './reader-types.js';
