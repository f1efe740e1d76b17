// A module resolve hook that adds the "source" export condition, so that in the unipc repository
// (no build) workspace packages resolve to their TypeScript sources, as tests do.
export async function resolve(specifier, context, nextResolve) {
  const conditions = context.conditions.includes('source')
    ? context.conditions
    : [...context.conditions, 'source']
  return nextResolve(specifier, { ...context, conditions })
}
