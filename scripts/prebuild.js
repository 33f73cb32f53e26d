#!/usr/bin/env node
// Run by `npm pack` / `npm publish` (prepack), after `prepare` built the addon: copies it to
// prebuilds/<platform>-<arch>/ so a project that installs the tarball loads it without a compiler.
// src/features/engine.ts looks there after build/; a missing or unloadable prebuild falls back to TypeScript.
import { copyFileSync, mkdirSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const built = path.join(root, 'build', 'Release', 'scenescope_native.node');
if (!existsSync(built)) {
  console.error(`prebuild: ${built} is missing; run npm run build:native first`);
  process.exit(1);
}
const binding = createRequire(import.meta.url)(built);
if (typeof binding.compute !== 'function') {
  console.error(`prebuild: ${built} is not the scenescope feature addon`);
  process.exit(1);
}
const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
mkdirSync(dir, { recursive: true });
copyFileSync(built, path.join(dir, 'scenescope_native.node'));
console.error(`prebuild: ${path.relative(root, dir)}/scenescope_native.node (kernel ${binding.version}, N-API, node ${process.version})`);
