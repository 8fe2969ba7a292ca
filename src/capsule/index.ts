export {
  type CapsuleHeader,
  type CapsuleIntegrity,
  type CapsuleLayout,
  lineLayoutId,
  validateCapsuleHeader,
} from './header.js';
export { openCapsule } from './open-capsule.js';
export { checkIntegrity } from './reader-integrity.js';
export { isGzipFile } from './reader-source.js';
export type { CapsuleReader, CapsuleRow, CapsuleSummary, IntegrityStatus } from './reader-types.js';
export {
  normalizeKey,
  planSubjectRewrite,
  rewriteSubjectInText,
  rewriteSubjectInValue,
  type SubjectRewrite,
} from './rewrite-subject.js';
