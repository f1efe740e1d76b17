/**
 * Channel names and subscription patterns for events.
 *
 * A channel is a non-empty string of dot-separated tokens, e.g. `camera.frame.ready`.
 * A pattern matches channels token by token:
 * - a literal token matches itself;
 * - `*` matches exactly one token (`camera.*` matches `camera.start`, not `camera.frame.ready`);
 * - `>` as the last token matches one or more remaining tokens (`camera.>` matches both above);
 * - `*` inside a token is a glob on that token (`cam*.start` matches `camera.start`).
 * A pattern without wildcards matches only the identical channel.
 * Channels whose first token starts with `$` (e.g. `$unipc.trace.event`) are reserved for unipc:
 * a pattern matches them only when its own first token is literal, so `>` never sees them.
 * @module
 */
import { InvalidArgumentError } from './errors.js'

/** A compiled pattern: a predicate over channel names. */
export type ChannelMatcher = (channel: string) => boolean

/**
 * Checks that a channel name can be published to: non-empty tokens, no wildcards.
 * @param channel - the channel to validate
 * @throws InvalidArgumentError when it is malformed
 */
export function assertChannel(channel: string): void {
  // A publisher usually publishes to one channel again and again: checking it once is enough.
  if (channel === lastValidChannel) return
  if (typeof channel !== 'string' || channel.length === 0) {
    throw new InvalidArgumentError('a channel name must be a non-empty string such as "camera.started"')
  }
  if (channel.includes('*') || channel.includes('>')) {
    throw new InvalidArgumentError(
      `cannot publish to '${channel}': '*' and '>' are only for subscription patterns`,
    )
  }
  // No empty token, checked without splitting: this runs on every publish.
  if (channel.charCodeAt(0) === 0x2e || channel.endsWith('.') || channel.includes('..')) {
    throw new InvalidArgumentError(
      `channel '${channel}' has an empty token: do not start, end or double dots`,
    )
  }
  lastValidChannel = channel
}

/** The channel {@link assertChannel} last accepted. */
let lastValidChannel: string | undefined

/**
 * Compiles a subscription pattern into a matcher.
 * @param pattern - e.g. `camera.*`, `camera.>` or `>`
 * @throws InvalidArgumentError when the pattern is malformed (`>` not last, empty tokens)
 */
export function compilePattern(pattern: string): ChannelMatcher {
  if (typeof pattern !== 'string' || pattern.length === 0) {
    throw new InvalidArgumentError(
      'a subscription pattern must be a non-empty string such as "camera.*" or ">"',
    )
  }
  const tokens = pattern.split('.')
  tokens.forEach((t, i) => {
    if (t.length === 0) throw new InvalidArgumentError(`pattern '${pattern}' has an empty token`)
    if (t.includes('>') && (t !== '>' || i !== tokens.length - 1)) {
      throw new InvalidArgumentError(`pattern '${pattern}': '>' must be a whole token and the last one`)
    }
  })
  if (!pattern.includes('*') && !pattern.includes('>')) return (channel) => channel === pattern
  const tail = tokens[tokens.length - 1] === '>'
  const fixed = tail ? tokens.slice(0, -1) : tokens
  const tests = fixed.map(tokenTest)
  const reservedHidden = tail && fixed.length === 0 ? true : (fixed[0] ?? '').includes('*')
  const test = (channel: string): boolean => {
    if (reservedHidden && channel.startsWith('$')) return false
    const parts = channel.split('.')
    if (tail ? parts.length <= fixed.length : parts.length !== fixed.length) return false
    for (let i = 0; i < tests.length; i++) if (!tests[i]!(parts[i]!)) return false
    return true
  }
  // Events on one channel tend to come in runs: remember the last answer rather than split again.
  let last: string | undefined
  let lastMatched = false
  return (channel) => {
    if (channel !== last) {
      lastMatched = test(channel)
      last = channel
    }
    return lastMatched
  }
}

/**
 * Tells whether a channel matches a pattern (compiling the pattern each time; cache
 * {@link compilePattern} on hot paths).
 * @param pattern - a subscription pattern
 * @param channel - a concrete channel
 */
export function matchChannel(pattern: string, channel: string): boolean {
  return compilePattern(pattern)(channel)
}

function tokenTest(token: string): (part: string) => boolean {
  if (token === '*') return () => true
  if (!token.includes('*')) return (part) => part === token
  const re = new RegExp(`^${token.split('*').map(escapeRegExp).join('.*')}$`, 'u')
  return (part) => re.test(part)
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
