import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';

import { parseYaml } from '../../parse-yaml.js';
import { GatePolicyError } from '../errors.js';
import { defaultEntropyThreshold, defaultMinSecretLength } from '../secret-scanner.js';
import { type JudgeId, judgeIds } from './types.js';

/** Which judges run, and their options (from `loops/<loop>/judges.yaml`). */
export interface JudgesConfig {
  enabled: Set<JudgeId>;
  credentials: { entropyThreshold: number; minLength: number };
}

export function defaultJudgesConfig(): JudgesConfig {
  return {
    enabled: new Set(judgeIds),
    credentials: { entropyThreshold: defaultEntropyThreshold, minLength: defaultMinSecretLength },
  };
}

/**
 * Reads judges.yaml: `judges: [{id, enabled, options}]`. A missing file enables every judge; an unknown
 * judge id or option is an error (a typo must not silently turn a judge off).
 */
export async function loadJudgesConfig(file: string, options: { cwd?: string } = {}): Promise<JudgesConfig> {
  const shown = relative(options.cwd ?? process.cwd(), file) || file;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return defaultJudgesConfig();
    throw new GatePolicyError(`${shown}: cannot be read`);
  }
  return parseJudgesConfig(text, shown);
}

export function parseJudgesConfig(text: string, shown: string): JudgesConfig {
  const config = defaultJudgesConfig();
  const parsed = parseYaml(text);
  const problems = 'problem' in parsed ? [parsed.problem] : [];
  const data = ('data' in parsed ? (parsed.data as { judges?: unknown } | null) : null) ?? {};
  const entries = data.judges ?? [];
  if (!Array.isArray(entries)) problems.push('/judges: must be a list');
  (Array.isArray(entries) ? entries : []).forEach((entry: unknown, index) => {
    const where = `/judges/${index}`;
    const judge = (entry ?? {}) as { id?: unknown; enabled?: unknown; options?: unknown };
    if (!judgeIds.includes(judge.id as JudgeId)) {
      problems.push(`${where}/id: unknown judge ${JSON.stringify(judge.id)} (known: ${judgeIds.join(', ')})`);
      return;
    }
    const id = judge.id as JudgeId;
    if (judge.enabled !== undefined && typeof judge.enabled !== 'boolean') {
      problems.push(`${where}/enabled: must be true or false`);
    } else if (judge.enabled === false) config.enabled.delete(id);
    if (judge.options === undefined) return;
    const allowed = id === 'credentials_in_safe_export' ? ['entropyThreshold', 'minLength'] : [];
    for (const [key, value] of Object.entries(judge.options as Record<string, unknown>)) {
      if (!allowed.includes(key)) problems.push(`${where}/options: unknown option "${key}"`);
      else if (typeof value !== 'number' || !(value > 0))
        problems.push(`${where}/options/${key}: must be a positive number`);
      else config.credentials[key as 'entropyThreshold' | 'minLength'] = value;
    }
  });
  if (problems.length > 0) {
    const lines = problems.map((problem) => `${shown}: ${problem}`);
    throw new GatePolicyError(
      `${lines[0]}${lines.length > 1 ? ` (and ${lines.length - 1} more)` : ''}`,
      lines,
    );
  }
  return config;
}
