#!/usr/bin/env node
// Fails when src/ has an import circle (type-only imports included: a circle of types is still two
// modules that cannot be understood one without the other). Part of `npm run lint`.
// Reads every `from '…'` / `import('…')` with a relative specifier; `.js` specifiers name `.ts` files.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? 'src');

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return /\.ts$/.test(name) && !/\.test\.ts$/.test(name) ? [path] : [];
  });
}

const modules = files(root);
const known = new Set(modules);
const edges = new Map();
const specifier = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;
for (const file of modules) {
  const text = readFileSync(file, 'utf8');
  const targets = new Set();
  for (const match of text.matchAll(specifier)) {
    const target = resolve(dirname(file), match[1]).replace(/\.js$/, '.ts');
    if (known.has(target)) targets.add(target);
  }
  edges.set(file, [...targets]);
}

// Tarjan's strongly connected components: every component with more than one module is a circle.
let counter = 0;
const index = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const circles = [];
function visit(node) {
  index.set(node, counter);
  low.set(node, counter++);
  stack.push(node);
  onStack.add(node);
  for (const next of edges.get(node)) {
    if (!index.has(next)) {
      visit(next);
      low.set(node, Math.min(low.get(node), low.get(next)));
    } else if (onStack.has(next)) {
      low.set(node, Math.min(low.get(node), index.get(next)));
    }
  }
  if (low.get(node) === index.get(node)) {
    const component = [];
    let member;
    do {
      member = stack.pop();
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || edges.get(node).includes(node)) circles.push(component);
  }
}
for (const file of modules) if (!index.has(file)) visit(file);

if (circles.length > 0) {
  for (const circle of circles) {
    console.error(
      `import circle: ${circle
        .map((file) => relative(process.cwd(), file))
        .sort()
        .join(' <-> ')}`,
    );
  }
  process.exit(1);
}
console.log(`no import circle in ${modules.length} modules under ${relative(process.cwd(), root) || '.'}`);
