--[[
  Shared helpers, prepended to every script by its Rust wrapper
  (`concat!(include_str!("includes/common.lua"), include_str!("<script>.lua"))`).
  Dynamic keys built here use the queue's hash-tagged prefix P = "{<prefix>:<queue>}".
]]
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Adjust the per-tenant count of jobs in `state` (field "<state>:<tenant>" of the tenants hash).
local function tcount(tenants_key, state, tenant, delta)
  local field = state .. ':' .. tenant
  local v = redis.call('HINCRBY', tenants_key, field, delta)
  if v <= 0 then redis.call('HDEL', tenants_key, field) end
end

-- Append (or, with front = true, prepend) a job id to its tenant's waiting list and keep the
-- ring invariant: a tenant is in the ring exactly when its waiting list is non-empty.
local function push_waiting(P, ring_key, tenant, id, front)
  local wk = P .. ':w:' .. tenant
  local n
  if front then n = redis.call('LPUSH', wk, id) else n = redis.call('RPUSH', wk, id) end
  if n == 1 then redis.call('RPUSH', ring_key, tenant) end
end

-- Latency bucket of a duration in ms: quarter powers of two (about 19 % wide).
local function lat_bucket(ms)
  if ms < 0 then ms = 0 end
  return math.floor(math.log(ms + 1) / math.log(2) * 4)
end

-- Add counts {bucket -> n} for kind "w" (ready to start) or "r" (run time) to the
-- per-minute latency hash P:lat:<minute>, kept for two hours.
local function lat_record(P, now, kind, counts)
  local key = P .. ':lat:' .. math.floor(now / 60000)
  local any = false
  for b, n in pairs(counts) do
    redis.call('HINCRBY', key, kind .. ':' .. b, n)
    any = true
  end
  if any then redis.call('PEXPIRE', key, 7200000) end
end

-- Bury an active/leased job: state dead, last error, dead index.
local function bury(P, dead_key, tenants_key, id, tenant, from_state, err, now)
  local jk = P .. ':job:' .. id
  redis.call('HSET', jk, 'state', 'dead', 'died_ms', now, 'last_error', err)
  redis.call('HDEL', jk, 'lease', 'owner')
  redis.call('PERSIST', jk)
  redis.call('ZADD', dead_key, now, id)
  tcount(tenants_key, from_state, tenant, -1)
  tcount(tenants_key, 'dead', tenant, 1)
end

