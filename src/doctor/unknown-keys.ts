import { loadSchema } from '../schemas.js';

interface SchemaNode {
  $ref?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: unknown;
  items?: SchemaNode;
}

/**
 * JSON pointers of keys the manifest schema does not know. The loader ignores them (the original tool
 * did too), so a misspelt optional key (`deletePredicat`) silently does nothing; doctor names them.
 * Walks the schema itself, so a key added to the schema is known here at once.
 */
export function unknownManifestKeys(raw: unknown): string[] {
  const root = loadSchema('manifest') as SchemaNode & { definitions?: Record<string, SchemaNode> };
  const resolve = (node: SchemaNode): SchemaNode =>
    node.$ref?.startsWith('#/definitions/')
      ? resolve(root.definitions?.[node.$ref.slice('#/definitions/'.length)] ?? {})
      : node;
  const found: string[] = [];
  const walk = (node: SchemaNode, data: unknown, pointer: string): void => {
    const schema = resolve(node);
    if (Array.isArray(data)) {
      if (schema.items) data.forEach((item, index) => walk(schema.items!, item, `${pointer}/${index}`));
      return;
    }
    if (data === null || typeof data !== 'object' || !schema.properties) return;
    for (const [key, value] of Object.entries(data)) {
      const child = schema.properties[key];
      const path = `${pointer}/${escapePointer(key)}`;
      if (child) walk(child, value, path);
      else if (schema.additionalProperties === undefined || schema.additionalProperties === false) {
        found.push(path);
      }
    }
  };
  walk(root, raw, '');
  return found;
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
