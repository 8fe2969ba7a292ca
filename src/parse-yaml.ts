import { type Document, parseDocument } from 'yaml';

/**
 * YAML text (scenarios.yaml, loop-state.yaml, gate.yaml, judges.yaml) as an editable document (comments
 * kept) and its plain value, or the first problem as one line (`not valid YAML: …`). Converting is part of
 * parsing: yaml's toJS is what refuses alias bombs (maxAliasCount) and aliases to no anchor (`*x`), and
 * both must be one clear line, not an internal error. The manifest has its own richer loader (positions).
 */
export function parseYaml(text: string): { document: Document; data: unknown } | { problem: string } {
  const document = parseDocument(text, { uniqueKeys: true });
  const syntax = document.errors[0];
  if (syntax) return { problem: `not valid YAML: ${firstLine(syntax.message)}` };
  try {
    return { document, data: document.toJS() as unknown };
  } catch (error) {
    return { problem: `not valid YAML: ${firstLine((error as Error).message)}` };
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0]!;
}
