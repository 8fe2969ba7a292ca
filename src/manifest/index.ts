export { loadManifest, parseManifest } from './load-manifest.js';
export type {
  ParsedCapsulePolicy,
  ParsedCommand,
  ParsedManifest,
  ParsedProbe,
  ParsedRedactionRule,
  ParsedTable,
} from './parsed-manifest.js';
export { probeRequiredField } from './parsed-manifest.js';
export { parseSubject, parseSubjectRewrite, type Subject, subjectLabel } from './subject.js';
