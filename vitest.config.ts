import { defineConfig } from 'vitest/config'

// Workspace packages resolve to their TypeScript sources through the "source" export condition,
// so tests need no build step. Child processes started by tests use the same condition
// (see @unipc/testkit spawnTs).
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    reporters: ['default', ['json', { outputFile: '.vitest-report.json' }]],
    pool: 'forks',
  },
})
