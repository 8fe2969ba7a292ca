import { scrubSecrets } from '../../../secrets.js';

/**
 * A URL (or any text holding URLs) as the trace may show it: a password in the userinfo part
 * (`http://user:secret@host/`) becomes `***`, then registered secrets are scrubbed. The probe's URL comes
 * from the manifest; a page's request URLs come from the app — both may carry credentials.
 */
export function displayUrl(text: string): string {
  return scrubSecrets(text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*):[^/\s@]*@/gi, '$1:***@'));
}
