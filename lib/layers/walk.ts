/** Walking a module tree (no runtime import of module.ts, so graph code can use it without a cycle). */
import type { Module } from './module.js';

/** This module and every module under it, each once, parents first. */
export function subtree(root: Module): Module[] {
  const out: Module[] = [];
  const seen = new Set<Module>();
  const walk = (m: Module): void => {
    if (seen.has(m)) return;
    seen.add(m);
    out.push(m);
    for (const [, c] of m.modules()) walk(c);
  };
  walk(root);
  return out;
}
