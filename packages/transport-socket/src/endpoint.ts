/**
 * Parses `unix:`, `tcp:` and `tls:` URLs (plus options) into a socket endpoint, shared by the
 * client and the hub's listeners.
 * @module
 */
import { readFileSync } from 'node:fs'
import { InvalidArgumentError } from '@unipc/core/spi'
import { DEFAULT_MAX_FRAME } from './wire/frames.js'

/** TLS material: file paths, or PEM text (anything starting with `-----BEGIN`). */
export interface TlsFiles {
  /** CA certificate(s) that signed the peer's certificate. */
  ca?: string
  /** This side's certificate. */
  cert?: string
  /** This side's private key. */
  key?: string
  /** Name to verify in the hub's certificate (client side; default: the URL host). */
  servername?: string
}

/** A parsed socket endpoint. */
export interface Endpoint {
  readonly kind: 'unix' | 'tcp' | 'tls'
  /** Socket path (unix). */
  readonly path: string
  /** Host (tcp/tls). */
  readonly host: string
  /** Port (tcp/tls). */
  readonly port: number
  /** Shared secret for challenge-response auth, if any. */
  readonly token: string | undefined
  /** Start a background hub when nothing listens (unix only). */
  readonly autostart: boolean
  /** Largest frame body in bytes. */
  readonly maxFrame: number
  /** TLS files (tls only). */
  readonly tls: TlsFiles
  /** The URL without secrets, for messages and logs. */
  readonly display: string
}

/**
 * Parses a socket URL. Query parameters: `token`, `autostart=1`, `maxFrame=<bytes>`, and for TLS
 * `ca`, `cert`, `key` (file paths), `servername`. Options win over the query, the query over
 * `UNIPC_TOKEN`.
 */
export function parseEndpoint(url: URL, options: Record<string, unknown> = {}): Endpoint {
  const q = url.searchParams
  const token = str(options.token) ?? q.get('token') ?? process.env.UNIPC_TOKEN ?? undefined
  const maxFrame = Number(options.maxFrame ?? q.get('maxFrame') ?? DEFAULT_MAX_FRAME)
  if (!Number.isSafeInteger(maxFrame) || maxFrame < 1024)
    throw new InvalidArgumentError(`maxFrame must be an integer of at least 1024 bytes, got ${maxFrame}`)
  const autostartOpt = options.autostart ?? q.get('autostart')
  const autostart = autostartOpt === true || autostartOpt === '1' || autostartOpt === 'true'
  const tlsOpt = (options.tls ?? {}) as TlsFiles
  const tls: TlsFiles = {
    ca: tlsOpt.ca ?? q.get('ca') ?? undefined,
    cert: tlsOpt.cert ?? q.get('cert') ?? undefined,
    key: tlsOpt.key ?? q.get('key') ?? undefined,
    servername: tlsOpt.servername ?? q.get('servername') ?? undefined,
  }
  const base = { token: token || undefined, maxFrame, tls }
  switch (url.protocol) {
    case 'unix:': {
      const path = decodeURIComponent(url.hostname ? `${url.hostname}${url.pathname}` : url.pathname)
      if (!path)
        throw new InvalidArgumentError(`unix URL needs a path: unix:///run/unipc.sock, got ${url.href}`)
      return { ...base, kind: 'unix', path, host: '', port: 0, autostart, display: `unix://${path}` }
    }
    case 'tcp:':
    case 'tls:': {
      const port = Number(url.port)
      if (!url.hostname || !Number.isInteger(port) || url.port === '')
        throw new InvalidArgumentError(`${url.protocol} URL needs host and port: ${url.protocol}//host:7400`)
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
      const kind = url.protocol === 'tcp:' ? 'tcp' : 'tls'
      return { ...base, kind, path: '', host, port, autostart: false, display: `${kind}://${url.host}` }
    }
    default:
      throw new InvalidArgumentError(`not a socket URL: ${url.protocol} (use unix:, tcp: or tls:)`)
  }
}

/** Reads a TLS file option: PEM text is used as is, anything else is a path. */
export function loadPem(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  return value.startsWith('-----BEGIN') ? value : readFileSync(value, 'utf8')
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined
}
