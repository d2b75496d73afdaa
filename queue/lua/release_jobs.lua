--[[
  Give back jobs that were leased but never started (graceful shutdown): they go to the
  front of their tenant's waiting list, and the attempt taken by the lease is returned.

  Input:
    KEYS[1] ring       LIST  tenants with waiting jobs
    KEYS[2] active     ZSET  id -> lease expiry ms
    KEYS[3] marker     ZSET  wake-up marker
    KEYS[4] stats      HASH  counters
    KEYS[5] tenants    HASH  "<state>:<tenant>" -> count

    ARGV[1] P          (string) key prefix; dynamic keys P:job:<id>, P:w:<tenant> share its
                       hash tag
    then 2 per job:
    ARGV[i+0] id       (string)
    ARGV[i+1] token    (string) fencing token

  Returns:
    number of jobs released (jobs whose token no longer matches are skipped)

  Errors:
    none
]]
local ring_key, active_key, marker_key, stats_key, tenants_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local P = ARGV[1]
local n = 0
for i = 2, #ARGV, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  local jk = P .. ':job:' .. id
  local f = redis.call('HMGET', jk, 'state', 'lease', 'tenant')
  if f[1] == 'active' and f[2] == token then
    redis.call('ZREM', active_key, id)
    redis.call('HINCRBY', jk, 'attempts', -1)
    redis.call('HSET', jk, 'state', 'waiting')
    redis.call('HDEL', jk, 'lease', 'owner', 'started_ms')
    push_waiting(P, ring_key, f[3], id, true)
    tcount(tenants_key, 'active', f[3], -1)
    tcount(tenants_key, 'waiting', f[3], 1)
    n = n + 1
  end
end
if n > 0 then
  redis.call('ZADD', marker_key, 0, 'r')
  redis.call('HINCRBY', stats_key, 'released', n)
end
return n
