--[[
  Settle failed jobs: schedule a retry (uses an attempt), defer (retry at a time without
  using an attempt) or bury as a dead letter.

  Input:
    KEYS[1] active     ZSET  id -> lease expiry ms
    KEYS[2] delayed    ZSET  id -> due ms
    KEYS[3] dead       ZSET  id -> died ms
    KEYS[4] stats      HASH  counters
    KEYS[5] tenants    HASH  "<state>:<tenant>" -> count

    ARGV[1] P              (string) key prefix; dynamic keys P:job:<id>, P:lat:<minute>
                           share its hash tag
    ARGV[2] max_deferrals  (int) a job deferred more often than this is treated as failed
    then 6 per job:
    ARGV[i+0] id       (string)
    ARGV[i+1] token    (string) fencing token
    ARGV[i+2] mode     (string) "fail" | "defer" | "abort"
    ARGV[i+3] delay_ms (int ms) retry delay (fail: backoff; defer: until the retry time)
    ARGV[i+4] error    (string) error text, truncated by the caller
    ARGV[i+5] run_ms   (int ms) handler run time

  Returns:
    flat array, one code per job: 0 stale (lease lost), 1 retried, 2 deferred, 3 dead

  Errors:
    none
]]
local active_key, delayed_key, dead_key, stats_key, tenants_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local P, max_deferrals = ARGV[1], tonumber(ARGV[2])
local now = now_ms()
local out = {}
local retried, deferred, died, stale = 0, 0, 0, 0
local runs = {}
for i = 3, #ARGV, 6 do
  local id, token, mode = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local delay, err, run_ms = tonumber(ARGV[i + 3]), ARGV[i + 4], tonumber(ARGV[i + 5])
  local jk = P .. ':job:' .. id
  local f = redis.call('HMGET', jk, 'state', 'lease', 'tenant', 'attempts', 'max_attempts')
  if f[1] ~= 'active' or f[2] ~= token then
    out[#out + 1] = 0
    stale = stale + 1
  else
    local tenant = f[3]
    local attempts, max_attempts = tonumber(f[4]) or 0, tonumber(f[5]) or 1
    redis.call('ZREM', active_key, id)
    local b = lat_bucket(run_ms)
    runs[b] = (runs[b] or 0) + 1
    if mode == 'defer' then
      local d = redis.call('HINCRBY', jk, 'deferrals', 1)
      if d > max_deferrals then
        mode = 'fail'
        err = 'deferred more than ' .. max_deferrals .. ' times: ' .. err
      else
        redis.call('HINCRBY', jk, 'attempts', -1)
        redis.call('HSET', jk, 'state', 'delayed', 'due_ms', now + delay, 'last_defer', err)
        redis.call('HDEL', jk, 'lease', 'owner')
        redis.call('ZADD', delayed_key, now + delay, id)
        tcount(tenants_key, 'active', tenant, -1)
        tcount(tenants_key, 'delayed', tenant, 1)
        out[#out + 1] = 2
        deferred = deferred + 1
      end
    end
    if mode == 'fail' and attempts < max_attempts then
      redis.call('HSET', jk, 'state', 'delayed', 'due_ms', now + delay, 'last_error', err)
      redis.call('HDEL', jk, 'lease', 'owner')
      redis.call('ZADD', delayed_key, now + delay, id)
      tcount(tenants_key, 'active', tenant, -1)
      tcount(tenants_key, 'delayed', tenant, 1)
      out[#out + 1] = 1
      retried = retried + 1
    elseif mode == 'fail' or mode == 'abort' then
      bury(P, dead_key, tenants_key, id, tenant, 'active', err, now)
      out[#out + 1] = 3
      died = died + 1
    end
  end
end
if retried > 0 then redis.call('HINCRBY', stats_key, 'retried', retried) end
if deferred > 0 then redis.call('HINCRBY', stats_key, 'deferred', deferred) end
if died > 0 then redis.call('HINCRBY', stats_key, 'dead', died) end
if stale > 0 then redis.call('HINCRBY', stats_key, 'stale', stale) end
if retried + deferred + died > 0 then
  redis.call('HINCRBY', stats_key, 'failed', retried + died)
  lat_record(P, now, 'r', runs)
end
return out
