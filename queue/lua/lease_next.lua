--[[
  Lease up to max_jobs waiting jobs, one tenant at a time in ring order (round robin), after
  promoting at most promote_chunk due delayed jobs.

  Input:
    KEYS[1] ring       LIST  tenants with waiting jobs
    KEYS[2] active     ZSET  id -> lease expiry ms
    KEYS[3] delayed    ZSET  id -> due ms
    KEYS[4] marker     ZSET  wake-up marker
    KEYS[5] stats      HASH  counters
    KEYS[6] tenants    HASH  "<state>:<tenant>" -> count
    KEYS[7] paused     STRING present = queue paused

    ARGV[1] P              (string) key prefix; dynamic keys P:job:<id>, P:w:<tenant>,
                           P:co:<key>, P:lat:<minute> share its hash tag
    ARGV[2] worker_id      (string) unique per backend instance
    ARGV[3] lease_ms       (int ms)
    ARGV[4] max_jobs       (int)    <= 256
    ARGV[5] promote_chunk  (int)    <= 1000
    ARGV[6] call_seq       (int)    per worker, increasing: lease tokens are
                           worker_id:call_seq:n, unique without a per-job counter

  Returns:
    { next_due, then 9 per job: id, token, attempts, max_attempts, tenant, enq_ms, wait_ms,
      payload, meta }
    next_due: ms until the earliest delayed job is due, -1 if none, -2 if the queue is paused
    (then no job follows)

  Errors:
    none
]]
local ring_key, active_key, delayed_key, marker_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local stats_key, tenants_key, paused_key = KEYS[5], KEYS[6], KEYS[7]
local P, worker_id = ARGV[1], ARGV[2]
local lease_ms, max_jobs, chunk = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local token_prefix = worker_id .. ':' .. ARGV[6] .. ':'

if redis.call('EXISTS', paused_key) == 1 then return { -2 } end
local now = now_ms()

-- 1. promote due delayed jobs (bounded)
local due = redis.call('ZRANGE', delayed_key, '-inf', now, 'BYSCORE', 'LIMIT', 0, chunk)
for _, id in ipairs(due) do
  redis.call('ZREM', delayed_key, id)
  local jk = P .. ':job:' .. id
  local f = redis.call('HMGET', jk, 'tenant', 'state')
  if f[1] and f[2] == 'delayed' then
    redis.call('HSET', jk, 'state', 'waiting')
    push_waiting(P, ring_key, f[1], id, false)
    tcount(tenants_key, 'delayed', f[1], -1)
    tcount(tenants_key, 'waiting', f[1], 1)
  end
end

-- 2. lease, tenants round robin. The tenants at the head of the ring are visited in order,
--    each giving up to `per` jobs (max_jobs spread over them: one job each when at least
--    max_jobs tenants wait). Visited tenants with jobs left move to the tail; the ring, the
--    active set and the tenant counters are updated once per call, not once per job.
local out = { -1 }
local leased = 0
local waits = {}
local active_args = {}
-- Numbers passed to redis.call are formatted with printf on every call: format once.
local now_s, expiry_s = tostring(now), tostring(now + lease_ms)
local moved = {}
local ring_len = redis.call('LLEN', ring_key)
local remaining = ring_len
if ring_len > 0 then
  local tenants = redis.call('LRANGE', ring_key, 0, math.min(ring_len, max_jobs) - 1)
  local per = math.ceil(max_jobs / #tenants)
  local visited = 0
  local keep = {}
  for _, tenant in ipairs(tenants) do
    local want = math.min(per, max_jobs - leased)
    if want <= 0 then break end
    visited = visited + 1
    local wk = P .. ':w:' .. tenant
    local ids = redis.call('LPOP', wk, want) or {}
    if #ids == want and redis.call('LLEN', wk) > 0 then keep[#keep + 1] = tenant end
    for _, id in ipairs(ids) do
      local jk = P .. ':job:' .. id
      local f = redis.call('HMGET', jk, 'state', 'max_attempts', 'enq_ms', 'due_ms', 'payload', 'meta', 'co')
      if f[1] == 'waiting' then
        local attempts = redis.call('HINCRBY', jk, 'attempts', '1')
        local token = token_prefix .. leased
        redis.call('HSET', jk, 'state', 'active', 'lease', token, 'owner', worker_id, 'started_ms', now_s)
        active_args[#active_args + 1] = expiry_s
        active_args[#active_args + 1] = id
        if f[7] and f[7] ~= '' then
          local ck = P .. ':co:' .. f[7]
          if redis.call('GET', ck) == id then redis.call('DEL', ck) end
        end
        moved[tenant] = (moved[tenant] or 0) + 1
        local wait = now - (tonumber(f[4]) or now)
        if wait < 0 then wait = 0 end
        local b = lat_bucket(wait)
        waits[b] = (waits[b] or 0) + 1
        local n = #out
        out[n + 1] = id
        out[n + 2] = token
        out[n + 3] = attempts
        out[n + 4] = tonumber(f[2]) or 1
        out[n + 5] = tenant
        out[n + 6] = tonumber(f[3]) or now
        out[n + 7] = wait
        out[n + 8] = f[5] or ''
        out[n + 9] = f[6] or '{}'
        leased = leased + 1
      end
    end
  end
  redis.call('LTRIM', ring_key, visited, -1)
  if #keep > 0 then redis.call('RPUSH', ring_key, unpack(keep)) end
  remaining = ring_len - visited + #keep
end
if #active_args > 0 then redis.call('ZADD', active_key, unpack(active_args)) end
for tenant, n in pairs(moved) do
  tcount(tenants_key, 'waiting', tenant, -n)
  tcount(tenants_key, 'active', tenant, n)
end

-- 3. wake the next idle worker while work remains; report the next due time
if remaining > 0 then redis.call('ZADD', marker_key, 0, 'r') end
local first = redis.call('ZRANGE', delayed_key, 0, 0, 'WITHSCORES')
if first[2] then
  local d = tonumber(first[2]) - now
  if d < 0 then d = 0 end
  out[1] = d
end
if leased > 0 then
  redis.call('HINCRBY', stats_key, 'started', leased)
  lat_record(P, now, 'w', waits)
end
return out
