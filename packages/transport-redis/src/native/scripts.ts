/**
 * The Lua scripts of the native mode. Each touches only keys of one hash tag, so it runs on one
 * Cluster slot. ioredis sends them with EVALSHA and falls back to EVAL once per connection.
 * @module
 */
import type { Client } from '../client.js'

/**
 * Moves up to ARGV[1] commands from the queue head to a worker's processing list.
 * KEYS: queue list, processing list. Returns the moved items in order.
 */
const TAKE = `
local out = {}
for i = 1, tonumber(ARGV[1]) do
  local v = redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT')
  if not v then break end
  out[i] = v
end
return out`

/**
 * Returns the commands held by workers back to the queue head, flagged redelivered ('1' as the
 * first byte), keeping their order. ARGV[1] is the queue's key base, ARGV[2] a worker id to
 * release unconditionally (or '' to release every worker whose heartbeat expired).
 * KEYS: queue list, workers set. Returns how many commands were returned.
 */
const REAP = `
local moved = 0
local function release(w)
  local proc = ARGV[1] .. ':proc:' .. w
  while true do
    local item = redis.call('RPOP', proc)
    if not item then break end
    redis.call('LPUSH', KEYS[1], '1' .. string.sub(item, 2))
    moved = moved + 1
  end
  redis.call('SREM', KEYS[2], w)
  redis.call('DEL', ARGV[1] .. ':hb:' .. w)
end
if ARGV[2] ~= '' then
  release(ARGV[2])
else
  for _, w in ipairs(redis.call('SMEMBERS', KEYS[2])) do
    if redis.call('EXISTS', ARGV[1] .. ':hb:' .. w) == 0 then release(w) end
  end
end
return moved`

/** LREM of each acknowledged item from a worker's processing list. KEYS: proc list. ARGV: items. */
const ACK = `
for i = 1, #ARGV do redis.call('LREM', KEYS[1], 1, ARGV[i]) end
return #ARGV`

/** HSET of several fields, then one PUBLISH per field: 's<len>:<key><value>'. KEYS: hash. ARGV: channel, k, v, … */
const MAP_SET = `
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
for i = 2, #ARGV, 2 do
  redis.call('PUBLISH', ARGV[1], 's' .. #ARGV[i] .. ':' .. ARGV[i] .. ARGV[i + 1])
end
return 1`

/** HDEL per field; PUBLISH 'd<len>:<key>' for each field that existed. KEYS: hash. ARGV: channel, k, … */
const MAP_DELETE = `
for i = 2, #ARGV do
  if redis.call('HDEL', KEYS[1], ARGV[i]) == 1 then
    redis.call('PUBLISH', ARGV[1], 'd' .. #ARGV[i] .. ':' .. ARGV[i])
  end
end
return 1`

/**
 * Sets the liveness key of a method from its registry (after dropping expired servers): the number
 * of live servers, expiring when the last of them would (so it exists exactly while some server's
 * score ≥ Redis time), or deletes it when none is left. Callers read it with a plain GET right after
 * their XADDs: dispatch needs no script. KEYS: registry, liveness key. Needs `now` (ms).
 */
const SET_ALIVE = `
local function setAlive(now)
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 1)
  local top = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
  if #top == 0 then
    redis.call('DEL', KEYS[3])
  else
    redis.call('SET', KEYS[3], redis.call('ZCARD', KEYS[2]), 'PX', math.max(1, tonumber(top[2]) - now))
  end
end`

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`

/**
 * Registers (or refreshes) a server in a method's registry until Redis time + ARGV[2] ms, drops
 * expired servers, refreshes the liveness key, and creates the consumer group if it is missing
 * (after a Redis restart). KEYS: stream, registry, liveness key. ARGV: consumer, ttl ms, group.
 */
const REGISTER = `${SET_ALIVE}${NOW}
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2]) * 10)
setAlive(now)
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[3], '0', 'MKSTREAM')
else
  local ok = pcall(redis.call, 'XGROUP', 'CREATE', KEYS[1], ARGV[3], '0')
end
return 1`

/**
 * Removes a stopping server from a method's registry and refreshes the liveness key (deleted when it
 * was the last live server, so dispatches fail with NoHandlerError at once).
 * KEYS: stream, registry, liveness key. ARGV: consumer.
 */
const UNREGISTER = `${SET_ALIVE}${NOW}
redis.call('ZREM', KEYS[2], ARGV[1])
setAlive(now)
return 1`

/** Lua: the last-delivered-id of consumer group `group` of an existing `stream`, or nil without that group. */
const LAST_DELIVERED = `
local function lastDelivered(stream, group)
  local last
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
    local name, ldi
    for i = 1, #g, 2 do
      if g[i] == 'name' then name = g[i + 1] elseif g[i] == 'last-delivered-id' then ldi = g[i + 1] end
    end
    if name == group then last = ldi end
  end
  return last
end`

/**
 * Takes back requests a caller added while no server was alive (its GET of the liveness key, sent
 * right after the XADDs, found nothing): deletes each entry no server has read yet (newer than the
 * group's last delivered id). KEYS: stream. ARGV: group, entry ids. Returns per id 1 = deleted
 * (the caller fails it with NoHandlerError), 0 = a server already read it (it counts as dispatched).
 */
const UNDISPATCH = `${LAST_DELIVERED}
local last = '0-0'
if redis.call('EXISTS', KEYS[1]) == 1 then last = lastDelivered(KEYS[1], ARGV[1]) or '0-0' end
local lm, ls = string.match(last, '(%d+)-(%d+)')
lm, ls = tonumber(lm), tonumber(ls)
local out = {}
for i = 2, #ARGV do
  local m, q = string.match(ARGV[i], '(%d+)-(%d+)')
  m, q = tonumber(m), tonumber(q)
  if m > lm or (m == lm and q > ls) then
    redis.call('XDEL', KEYS[1], ARGV[i])
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out`

/**
 * Deletes request entries that no server needs any more: those older than the oldest pending entry
 * (or than the last delivered one when nothing is pending). Entries not yet delivered are newer and
 * stay. Servers run it every beat, so acknowledging costs one XACK and no XDEL.
 * KEYS: stream. ARGV: group. Returns how many entries were deleted.
 */
const TRIM = `${LAST_DELIVERED}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local last = lastDelivered(KEYS[1], ARGV[1])
if not last or last == '0-0' then return 0 end
local pending = redis.call('XPENDING', KEYS[1], ARGV[1])
local min = last
if pending[1] > 0 then min = pending[2] end
return redis.call('XTRIM', KEYS[1], 'MINID', min)`

/** The scripts, by name, with their key counts. */
export const nativeScripts = {
  unipcTake: { lua: TAKE, numberOfKeys: 2 },
  unipcReap: { lua: REAP, numberOfKeys: 2 },
  unipcAck: { lua: ACK, numberOfKeys: 1 },
  unipcMapSet: { lua: MAP_SET, numberOfKeys: 1 },
  unipcMapDelete: { lua: MAP_DELETE, numberOfKeys: 1 },
  unipcRegister: { lua: REGISTER, numberOfKeys: 3 },
  unipcUnregister: { lua: UNREGISTER, numberOfKeys: 3 },
  unipcUndispatch: { lua: UNDISPATCH, numberOfKeys: 1 },
  unipcTrim: { lua: TRIM, numberOfKeys: 1 },
} as const

/** A client with the native scripts defined as commands. */
export interface ScriptClient {
  unipcTakeBuffer(list: string, proc: string, count: number): Promise<Buffer[]>
  unipcReap(list: string, workers: string, base: string, worker: string): Promise<number>
  unipcAck(proc: string, ...items: Buffer[]): Promise<number>
  unipcMapSet(hash: string, channel: string, ...kv: (string | Buffer)[]): Promise<number>
  unipcMapDelete(hash: string, channel: string, ...keys: string[]): Promise<number>
  unipcRegister(
    stream: string,
    registry: string,
    alive: string,
    consumer: string,
    ttl: number,
    group: string,
  ): Promise<number>
  unipcUnregister(stream: string, registry: string, alive: string, consumer: string): Promise<number>
  unipcUndispatch(stream: string, group: string, ...ids: string[]): Promise<number[]>
  unipcTrim(stream: string, group: string): Promise<number>
}

/** Defines the native scripts on a client (idempotent) and returns it typed with them. */
export function withScripts(client: Client): ScriptClient {
  const c = client as Client & Partial<ScriptClient>
  if (typeof c.unipcTakeBuffer !== 'function') {
    for (const [name, def] of Object.entries(nativeScripts)) client.defineCommand(name, def)
  }
  return c as unknown as ScriptClient
}
