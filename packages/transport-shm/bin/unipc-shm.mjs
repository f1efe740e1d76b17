#!/usr/bin/env node
// Lists and cleans the shm transport's shared-memory segments (see src/cli.ts).
await import('../dist/cli.js')
