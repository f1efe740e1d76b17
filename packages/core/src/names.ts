/**
 * Validation of component, key and method names, so that every transport can map them to its own
 * keys and frames without escaping surprises.
 * @module
 */
import { InvalidArgumentError } from './errors.js'

/** Longest component, key or method name, in UTF-16 units (redis-ipc keys are at most 127 bytes). */
export const MAX_NAME_LENGTH = 100

/**
 * Checks a component, queue, key or method name: a non-empty string of at most 100 characters with
 * no whitespace, no `/`, and no `*` or `>` (reserved for patterns). Unicode letters are welcome.
 * @param kind - what the name is, for the error message
 * @param name - the name to check
 */
export function assertName(kind: string, name: string): void {
  // Every call and send checks its method or queue name; a program uses a few names over and over.
  if (checked.has(name)) return
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidArgumentError(`${kind} name must be a non-empty string`)
  }
  if (name.length > MAX_NAME_LENGTH) {
    throw new InvalidArgumentError(
      `${kind} name is ${name.length} characters long; the maximum is ${MAX_NAME_LENGTH}`,
    )
  }
  if (/[\s/*>]/u.test(name)) {
    throw new InvalidArgumentError(`${kind} name '${name}' must not contain whitespace, '/', '*' or '>'`)
  }
  if (checked.size >= MAX_CHECKED) checked.clear()
  checked.add(name)
}

/** Names that passed {@link assertName} (the rules do not depend on the kind); bounded, cleared when full. */
const checked = new Set<string>()
const MAX_CHECKED = 512
