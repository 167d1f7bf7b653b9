#!/usr/bin/env node
// The `rampart` command. Plain JavaScript so that it can refuse an old Node
// with a clear message before any TypeScript is loaded.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(`rampart needs Node.js 24 (this is ${process.version}). Run it through npm (npm start, npx rampart), which puts the repository's pinned Node first on the PATH.`);
  process.exit(1);
}
await import('../src/main.ts');
