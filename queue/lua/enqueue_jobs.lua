--[[
  Enqueue a batch of jobs: idempotency check, coalescing, then waiting list or delayed set.

  Input:
    KEYS[1] ring       LIST  tenants with waiting jobs
    KEYS[2] delayed    ZSET  id -> due ms
    KEYS[3] marker     ZSET  wake-up marker for idle workers (BZPOPMIN)
    KEYS[4] stats      HASH  counters
    KEYS[5] tenants    HASH  "<state>:<tenant>" -> count

    ARGV[1] P          (string) key prefix "{<prefix>:<queue>}"; dynamic keys P:job:<id>,
                       P:w:<tenant>, P:idem:<key>, P:co:<key> share its hash tag
    then 10 per job:
    ARGV[i+0] id            (string) new job id
    ARGV[i+1] tenant        (string) non-empty
    ARGV[i+2] payload       (string) JSON
    ARGV[i+3] max_attempts  (int)    >= 1
    ARGV[i+4] delay_ms      (int ms) 0 = waiting at once
    ARGV[i+5] idem_key      (string) "" = none
    ARGV[i+6] idem_ttl_ms   (int ms) TTL of the idempotency key; <= 0 = no key kept
    ARGV[i+7] co_key        (string) "" = none
    ARGV[i+8] co_mode       (string) "keep" | "replace" (payload of the pending job)
    ARGV[i+9] meta          (string) JSON object of metadata

  Returns:
    flat array, two per job: outcome (1 enqueued, 2 scheduled, 3 duplicate, 4 coalesced), id
    (the existing job's id for 3 and 4; 3 also when the given id already exists)

  Errors:
    none (the caller validates arguments)
]]
local ring_key, delayed_key, marker_key, stats_key, tenants_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local P = ARGV[1]
local now = now_ms()
-- Numbers passed to redis.call are formatted with printf on every call: format once.
local now_s = tostring(now)
local out = {}
local woke = false
local enq, dup, coal = 0, 0, 0
-- per state, tenant -> new jobs; the tenant counters are updated once per call
local counts = { waiting = {}, delayed = {} }

for i = 2, #ARGV, 10 do
  local id, tenant, payload = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local delay = tonumber(ARGV[i + 4])
  local idem, idem_ttl = ARGV[i + 5], tonumber(ARGV[i + 6])
  local co, co_mode, meta = ARGV[i + 7], ARGV[i + 8], ARGV[i + 9]
  local done = false

  -- 1. idempotency: a live key returns the job it points to
  if idem ~= '' then
    local existing = redis.call('GET', P .. ':idem:' .. idem)
    if existing then
      out[#out + 1] = 3
      out[#out + 1] = existing
      dup = dup + 1
      done = true
    end
  end

  -- 2. coalescing: merge into the pending (waiting or delayed) job of this key
  if not done and co ~= '' then
    local ck = P .. ':co:' .. co
    local existing = redis.call('GET', ck)
    if existing then
      local st = redis.call('HGET', P .. ':job:' .. existing, 'state')
      if st == 'waiting' or st == 'delayed' then
        if co_mode == 'replace' then
          redis.call('HSET', P .. ':job:' .. existing, 'payload', payload, 'meta', meta)
        end
        if idem ~= '' and idem_ttl > 0 then
          redis.call('SET', P .. ':idem:' .. idem, existing, 'PX', idem_ttl)
        end
        out[#out + 1] = 4
        out[#out + 1] = existing
        coal = coal + 1
        done = true
      else
        redis.call('DEL', ck)
      end
    end
  end

  -- 3. a new job (an id that already exists is reported as a duplicate, never overwritten)
  if not done and redis.call('EXISTS', P .. ':job:' .. id) == 1 then
    out[#out + 1] = 3
    out[#out + 1] = id
    dup = dup + 1
    done = true
  end
  if not done then
    local jk = P .. ':job:' .. id
    local due = now + delay
    local state = 'waiting'
    if delay > 0 then state = 'delayed' end
    local due_s = now_s
    if delay > 0 then due_s = tostring(due) end
    redis.call('HSET', jk, 'tenant', tenant, 'payload', payload, 'state', state,
      'attempts', '0', 'max_attempts', ARGV[i + 3], 'deferrals', '0', 'reclaims', '0',
      'enq_ms', now_s, 'due_ms', due_s, 'meta', meta, 'idem', idem, 'co', co)
    if state == 'waiting' then
      push_waiting(P, ring_key, tenant, id, false)
      woke = true
      out[#out + 1] = 1
    else
      redis.call('ZADD', delayed_key, due, id)
      out[#out + 1] = 2
    end
    counts[state][tenant] = (counts[state][tenant] or 0) + 1
    if idem ~= '' and idem_ttl > 0 then
      redis.call('SET', P .. ':idem:' .. idem, id, 'PX', ARGV[i + 6])
    end
    if co ~= '' then
      redis.call('SET', P .. ':co:' .. co, id)
    end
    out[#out + 1] = id
    enq = enq + 1
  end
end

for state, per in pairs(counts) do
  for tenant, n in pairs(per) do tcount(tenants_key, state, tenant, n) end
end
if woke then redis.call('ZADD', marker_key, 0, 'r') end
if enq > 0 then redis.call('HINCRBY', stats_key, 'enqueued', enq) end
if dup > 0 then redis.call('HINCRBY', stats_key, 'duplicate', dup) end
if coal > 0 then redis.call('HINCRBY', stats_key, 'coalesced', coal) end
return out
