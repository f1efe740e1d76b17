// Lists the workspace packages (public ones by default) with their directory and package.json.
// Used by the release, package-check and publishing-test scripts so they agree on what is published.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** @returns {{ name: string, dir: string, pkg: any }[]} */
export function workspaces({ includePrivate = false } = {}) {
  const out = []
  for (const group of ['packages', 'apps']) {
    const base = join(root, group)
    if (!existsSync(base)) continue
    for (const entry of readdirSync(base).sort()) {
      const file = join(base, entry, 'package.json')
      if (!existsSync(file)) continue
      const pkg = JSON.parse(readFileSync(file, 'utf8'))
      if (pkg.private && !includePrivate) continue
      out.push({ name: pkg.name, dir: join(base, entry), pkg })
    }
  }
  return out
}
