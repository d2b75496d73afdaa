--[[
  Acknowledge finished jobs: completed, kept for the retention window, then removed.

  Input:
    KEYS[1] active     ZSET  id -> lease expiry ms
    KEYS[2] done       ZSET  id -> done ms (retention index)
    KEYS[3] stats      HASH  counters
    KEYS[4] tenants    HASH  "<state>:<tenant>" -> count

    ARGV[1] P             (string) key prefix; dynamic keys P:job:<id>, P:lat:<minute> share
                          its hash tag
    ARGV[2] retention_ms  (int ms) 0 = delete the job at once
    ARGV[3] keep_payload  (0|1)
    then 3 per job (at most 1000 jobs: the active and done sets are updated with one
    unpacked ZREM/ZADD per call):
    ARGV[i+0] id       (string)
    ARGV[i+1] token    (string) fencing token
    ARGV[i+2] run_ms   (int ms) handler run time

  Returns:
    array of ids whose token did not match (stale: the lease was lost); others were completed

  Errors:
    none
]]
local active_key, done_key, stats_key, tenants_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local P, retention, keep_payload = ARGV[1], tonumber(ARGV[2]), ARGV[3] == '1'
local now = now_ms()
local stale = {}
local n = 0
local runs = {}
-- The active/done sets and the tenant counters are updated once per call.
local acked = {}
local done_args = {}
local per_tenant = {}
-- Numbers passed to redis.call are formatted with printf on every call: format once.
local now_s, retention_s = tostring(now), ARGV[2]
for i = 4, #ARGV, 3 do
  local id, token, run_ms = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local jk = P .. ':job:' .. id
  local f = redis.call('HMGET', jk, 'state', 'lease', 'tenant')
  if f[1] ~= 'active' or f[2] ~= token then
    stale[#stale + 1] = id
  else
    acked[#acked + 1] = id
    per_tenant[f[3]] = (per_tenant[f[3]] or 0) + 1
    if retention > 0 then
      redis.call('HSET', jk, 'state', 'completed', 'done_ms', now_s)
      if keep_payload then
        redis.call('HDEL', jk, 'lease', 'owner')
      else
        redis.call('HDEL', jk, 'lease', 'owner', 'payload')
      end
      redis.call('PEXPIRE', jk, retention_s)
      done_args[#done_args + 1] = now_s
      done_args[#done_args + 1] = id
    else
      redis.call('DEL', jk)
    end
    local b = lat_bucket(run_ms)
    runs[b] = (runs[b] or 0) + 1
    n = n + 1
  end
end
if #acked > 0 then redis.call('ZREM', active_key, unpack(acked)) end
if #done_args > 0 then redis.call('ZADD', done_key, unpack(done_args)) end
for tenant, c in pairs(per_tenant) do tcount(tenants_key, 'active', tenant, -c) end
if n > 0 then
  redis.call('HINCRBY', stats_key, 'completed', n)
  lat_record(P, now, 'r', runs)
end
if #stale > 0 then redis.call('HINCRBY', stats_key, 'stale', #stale) end
return stale
