--[[
  Reclaim at most `chunk` jobs whose lease expired (their worker died or lost Redis): back to
  the front of the tenant's waiting list with the attempt count kept, or dead when the last
  attempt was used.

  Input:
    KEYS[1] active     ZSET  id -> lease expiry ms
    KEYS[2] ring       LIST  tenants with waiting jobs
    KEYS[3] dead       ZSET  id -> died ms
    KEYS[4] marker     ZSET  wake-up marker
    KEYS[5] stats      HASH  counters
    KEYS[6] tenants    HASH  "<state>:<tenant>" -> count

    ARGV[1] P          (string) key prefix; dynamic keys P:job:<id>, P:w:<tenant> share its
                       hash tag
    ARGV[2] chunk      (int) <= 1000

  Returns:
    { reclaimed, buried }

  Errors:
    none
]]
local active_key, ring_key, dead_key, marker_key, stats_key, tenants_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local P, chunk = ARGV[1], tonumber(ARGV[2])
local now = now_ms()
local reclaimed, buried = 0, 0
local expired = redis.call('ZRANGE', active_key, '-inf', now, 'BYSCORE', 'LIMIT', 0, chunk)
for _, id in ipairs(expired) do
  redis.call('ZREM', active_key, id)
  local jk = P .. ':job:' .. id
  local f = redis.call('HMGET', jk, 'state', 'tenant', 'attempts', 'max_attempts')
  if f[1] == 'active' then
    local tenant = f[2]
    redis.call('HINCRBY', jk, 'reclaims', 1)
    if (tonumber(f[3]) or 0) >= (tonumber(f[4]) or 1) then
      bury(P, dead_key, tenants_key, id, tenant, 'active',
        'lease expired on the last attempt (' .. (f[3] or '?') .. ')', now)
      buried = buried + 1
    else
      redis.call('HSET', jk, 'state', 'waiting')
      redis.call('HDEL', jk, 'lease', 'owner')
      push_waiting(P, ring_key, tenant, id, true)
      tcount(tenants_key, 'active', tenant, -1)
      tcount(tenants_key, 'waiting', tenant, 1)
      reclaimed = reclaimed + 1
    end
  end
end
if reclaimed > 0 then
  redis.call('ZADD', marker_key, 0, 'r')
  redis.call('HINCRBY', stats_key, 'reclaimed', reclaimed)
end
if buried > 0 then redis.call('HINCRBY', stats_key, 'dead', buried) end
return { reclaimed, buried }
