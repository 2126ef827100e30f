/**
 * The directory's Lua scripts. Each runs atomically in Redis (no other command interleaves), and
 * every expiry is computed from the server's clock (`TIME`), never from an instance's: instances'
 * clocks may disagree, Redis' is the one all of them read. ioredis sends them as EVALSHA.
 *
 * Keys (prefix `burrow:`), all expiring on their own if nobody refreshes them:
 * - `inst:<id>` hash {url, info, draining}: an instance, alive while refreshed (PEXPIRE ttl).
 * - `instances` sorted set: instance id → expiry (ms, server clock), for stats.
 * - `held:<id>` hash: tunnel → `1` (public) or `0`: what an instance holds live connections for.
 * - `tunnel:<name>` sorted set: instance id → expiry: who holds the tunnel.
 * - `user:<name>` sorted set: `<instance id>/<conn id>/<agent id>:<slot>` → expiry: the user's
 *   connections, cluster-wide (the agent part empty for stock OpenSSH).
 *
 * Like every script that names keys it was not given in KEYS, these run on a single Redis (or a
 * primary with replicas), not on Redis Cluster.
 */

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`

/**
 * ARGV: prefix, id, url, ttl ms, info (JSON), draining (0/1), n, then n × (tunnel, public 0/1),
 * then m, then m × (user, conn id, agent slot key). Refreshes the instance, replaces what it holds (tunnels it no
 * longer holds leave at once), and refreshes its connections' entries. Returns the server time.
 */
export const PUBLISH = `${NOW}
local p, id, ttl = ARGV[1], ARGV[2], tonumber(ARGV[4])
local exp = now + ttl
local inst = p .. 'inst:' .. id
redis.call('HSET', inst, 'url', ARGV[3], 'info', ARGV[5], 'draining', ARGV[6])
redis.call('PEXPIRE', inst, ttl)
redis.call('ZADD', p .. 'instances', exp, id)
redis.call('ZREMRANGEBYSCORE', p .. 'instances', '-inf', now)
local held = p .. 'held:' .. id
local n = tonumber(ARGV[7])
local keep = {}
for i = 0, n - 1 do keep[ARGV[8 + 2 * i]] = ARGV[9 + 2 * i] end
for _, name in ipairs(redis.call('HKEYS', held)) do
  if keep[name] == nil then redis.call('ZREM', p .. 'tunnel:' .. name, id) end
end
redis.call('DEL', held)
for name, pub in pairs(keep) do
  redis.call('HSET', held, name, pub)
  local tk = p .. 'tunnel:' .. name
  redis.call('ZADD', tk, exp, id)
  redis.call('ZREMRANGEBYSCORE', tk, '-inf', now)
  redis.call('PEXPIRE', tk, ttl)
end
if n > 0 then redis.call('PEXPIRE', held, ttl) end
local at = 8 + 2 * n
local m = tonumber(ARGV[at])
for i = 0, m - 1 do
  local uk = p .. 'user:' .. ARGV[at + 1 + 3 * i]
  redis.call('ZADD', uk, exp, id .. '/' .. ARGV[at + 2 + 3 * i] .. '/' .. ARGV[at + 3 + 3 * i])
  redis.call('PEXPIRE', uk, ttl)
end
return now`

/**
 * ARGV: prefix, tunnel. The live holders of a tunnel: a flat list of (id, url, public 0/1), those
 * draining or whose entries expired left out.
 */
export const LOOKUP = `${NOW}
local p = ARGV[1]
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', p .. 'tunnel:' .. ARGV[2], now, '+inf')) do
  local inst = redis.call('HMGET', p .. 'inst:' .. id, 'url', 'draining')
  local pub = redis.call('HGET', p .. 'held:' .. id, ARGV[2])
  if inst[1] and inst[2] ~= '1' and pub then
    out[#out + 1] = id
    out[#out + 1] = inst[1]
    out[#out + 1] = pub
  end
end
return out`

/**
 * ARGV: prefix, user, id, conn id, limit, ttl ms, agent slot key (`<agent id>:<slot>`, or empty
 * for stock OpenSSH), then conn ids of this instance the local rule retires to make room. Cluster
 * admission, the takeover rule across instances:
 * 1. the same agent's same slot, wherever it was (an agent redials a slot only once that slot's
 *    connection ended on its side), leaves: the instance that held it may be dead;
 * 2. so do the connections retired here, and the user's expired entries (a dead instance's);
 * then the connection is admitted if fewer than `limit` remain. Atomic, so two instances admitting
 * at once cannot both take the last slot. Returns {1|0, count after}.
 */
export const ADMIT = `${NOW}
local p, limit, ttl, slotKey = ARGV[1], tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]
local uk = p .. 'user:' .. ARGV[2]
local member = ARGV[3] .. '/' .. ARGV[4] .. '/' .. slotKey
local function prefixed(m, pre) return string.sub(m, 1, #pre) == pre end
local retiring = {}
for i = 8, #ARGV do retiring[#retiring + 1] = ARGV[3] .. '/' .. ARGV[i] .. '/' end
for _, m in ipairs(redis.call('ZRANGE', uk, 0, -1)) do
  local drop = false
  if slotKey ~= '' and m ~= member and string.sub(m, -(#slotKey + 1)) == '/' .. slotKey then drop = true end
  for _, pre in ipairs(retiring) do if prefixed(m, pre) then drop = true end end
  if drop then redis.call('ZREM', uk, m) end
end
redis.call('ZREMRANGEBYSCORE', uk, '-inf', now)
if redis.call('ZSCORE', uk, member) then return {1, redis.call('ZCARD', uk)} end
local n = redis.call('ZCARD', uk)
if n >= limit then return {0, n} end
redis.call('ZADD', uk, now + ttl, member)
redis.call('PEXPIRE', uk, ttl)
return {1, n + 1}`

/** ARGV: prefix, user, id, conn id. A connection of this instance is gone: its slot is free now. */
export const RELEASE = `local uk = ARGV[1] .. 'user:' .. ARGV[2]
local pre = ARGV[3] .. '/' .. ARGV[4] .. '/'
for _, m in ipairs(redis.call('ZRANGE', uk, 0, -1)) do
  if string.sub(m, 1, #pre) == pre then redis.call('ZREM', uk, m) end
end
return 1`

/** ARGV: prefix, id. Stop being found as a holder (drain): tunnel entries go, the instance stays (stats). */
export const LEAVE = `local p, id = ARGV[1], ARGV[2]
local held = p .. 'held:' .. id
for _, name in ipairs(redis.call('HKEYS', held)) do redis.call('ZREM', p .. 'tunnel:' .. name, id) end
redis.call('DEL', held)
redis.call('HSET', p .. 'inst:' .. id, 'draining', '1')
return 1`

/** ARGV: prefix. Every live instance: a flat list of (id, url, info JSON, draining). */
export const INSTANCES = `${NOW}
local p = ARGV[1]
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', p .. 'instances', now, '+inf')) do
  local inst = redis.call('HMGET', p .. 'inst:' .. id, 'url', 'info', 'draining')
  if inst[1] then
    out[#out + 1] = id
    out[#out + 1] = inst[1]
    out[#out + 1] = inst[2] or '{}'
    out[#out + 1] = inst[3] or '0'
  end
end
return out`
