import { isCapsuleAccessRefusal, openCapsule } from '../capsule/index.js';
import { isReplayEnvError } from '../errors.js';
import type {
  CapsuleEvidence,
  CapsuleUnreadable,
  CredentialScan,
  SecretFinding,
} from '../gate/judges/types.js';
import { mayHoldSecret, scanValue, type SecretScanOptions } from '../gate/secret-scanner.js';
import { scrubSecrets } from '../secrets.js';

export interface CapsuleExamination {
  evidence: CapsuleEvidence | CapsuleUnreadable;
  /** Undefined when scanning was not asked for. */
  scan: CredentialScan | undefined;
}

/**
 * Reads the capsule once, streaming: header (subject, graph, redaction), every row (counted, hashed by
 * the reader, and — for a `safe` export — scanned for credentials), then the integrity summary.
 * A problem reading it is evidence (a failed judge), not an exception.
 */
export async function examineCapsule(options: {
  path: string;
  subjectKeys: string[];
  scanCredentials: boolean;
  scanOptions?: SecretScanOptions;
}): Promise<CapsuleExamination> {
  let reader: Awaited<ReturnType<typeof openCapsule>>;
  try {
    reader = await openCapsule(options.path);
  } catch (error) {
    // Encrypted without an identity, or expired: the user's rules refuse the capsule (exit 6), no verdict.
    if (isCapsuleAccessRefusal(error)) throw error;
    const message = describe(error);
    return {
      evidence: { path: options.path, error: message },
      scan: options.scanCredentials
        ? { redaction: null, scanned: false, rowsScanned: 0, findings: [], error: message }
        : undefined,
    };
  }
  const { header } = reader;
  const redaction = header.redaction ?? null;
  const scanning = options.scanCredentials && redaction === 'safe';
  const findings: SecretFinding[] = [];
  const rowIndex = new Map<string, number>();
  let rowsScanned = 0;
  let readProblem: string | undefined;
  try {
    for await (const { table, text } of reader.rows()) {
      const row = rowIndex.get(table) ?? 0;
      rowIndex.set(table, row + 1);
      if (!scanning) continue;
      rowsScanned += 1;
      if (!mayHoldSecret(text)) continue;
      for (const hit of scanValue(JSON.parse(text) as unknown, options.scanOptions)) {
        findings.push({ table, row, path: hit.path, kind: hit.kind });
      }
    }
  } catch (error) {
    readProblem = describe(error);
  }
  const summary = safeSummary(reader);
  const integrity =
    readProblem === undefined
      ? (summary?.integrity ?? { status: 'counts-only' as const, problems: [] })
      : { status: 'failed' as const, problems: [readProblem] };
  const subjectMatches = (entry: Record<string, unknown>): boolean =>
    Object.entries(header.subject).every(([key, value]) => entry[key] === value);
  const evidence: CapsuleEvidence = {
    path: options.path,
    subject: header.subject,
    subjectKeys: options.subjectKeys,
    graphSize: header.graph.length,
    graphHasSubject: header.graph.some((entry) => subjectMatches(entry as Record<string, unknown>)),
    tables: summary?.rowCounts ?? Object.fromEntries(rowIndex),
    integrity,
    redaction,
    sha256: summary?.file.sha256 ?? null,
  };
  const scan: CredentialScan | undefined = options.scanCredentials
    ? {
        redaction,
        scanned: scanning,
        rowsScanned,
        findings,
        ...(scanning && readProblem !== undefined ? { error: readProblem } : {}),
      }
    : undefined;
  return { evidence, scan };
}

function safeSummary(reader: { summary(): ReturnType<Awaited<ReturnType<typeof openCapsule>>['summary']> }) {
  try {
    return reader.summary();
  } catch {
    return undefined;
  }
}

function describe(error: unknown): string {
  return scrubSecrets(isReplayEnvError(error) ? error.message : (error as Error).message);
}
