export { defaultHashPrefix, hashValue } from './hash.js';
export { redactRowText } from './redact-text.js';
export { redactValue } from './redact-value.js';
export { buildSqlRedaction, jsRedactionMarker } from './redaction-sql.js';
export { createRowRedactor, type RowRedactor } from './row-redactor.js';
