/**
 * Recognises the transaction-control statements a recorded session may contain, so `replay --rollback`
 * can turn them into savepoints inside its own outer transaction (a real BEGIN there would only warn,
 * and a real COMMIT would end the outer transaction and make the replay permanent).
 */
export type TransactionStatement = 'begin' | 'commit' | 'rollback';

export function classifyTransactionStatement(sql: string): TransactionStatement | undefined {
  const text = sql
    .replace(/^(\s|--[^\n]*\n|\/\*[\s\S]*?\*\/)+/, '')
    .replace(/[\s;]+$/, '')
    .toLowerCase();
  if (
    /^(begin|start\s+transaction)(\s+(work|transaction)\b.*|\s+isolation\b.*|\s+read\b.*|\s+(not\s+)?deferrable\b.*)?$/.test(
      text,
    )
  ) {
    return 'begin';
  }
  if (/^(commit|end)(\s+(work|transaction))?(\s+and\s+no\s+chain)?$/.test(text)) return 'commit';
  if (/^(rollback|abort)(\s+(work|transaction))?(\s+and\s+no\s+chain)?$/.test(text)) return 'rollback';
  return undefined;
}
