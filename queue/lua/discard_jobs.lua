--[[
  Delete jobs that are not running (dead, delayed, completed or waiting). Removing a waiting
  job scans its tenant's waiting list (LREM): an operator action, not a hot path.

  Input:
    KEYS[1] dead       ZSET  id -> died ms
    KEYS[2] delayed    ZSET  id -> due ms
    KEYS[3] done       ZSET  id -> done ms
    KEYS[4] ring       LIST  tenants with waiting jobs
    KEYS[5] stats      HASH  counters
    KEYS[6] tenants    HASH  "<state>:<tenant>" -> count

    ARGV[1] P          (string) key prefix; dynamic keys P:job:<id>, P:w:<tenant>, P:co:<key>
                       share its hash tag
    ARGV[2..] id       (string) at most 500 ids; active or unknown ids are skipped

  Returns:
    number of jobs deleted

  Errors:
    none
]]
local dead_key, delayed_key, done_key, ring_key, stats_key, tenants_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local P = ARGV[1]
local n = 0
for i = 2, #ARGV do
  local id = ARGV[i]
  local jk = P .. ':job:' .. id
  local f = redis.call('HMGET', jk, 'state', 'tenant', 'co')
  local state, tenant = f[1], f[2]
  local ok = false
  if state == 'dead' then
    redis.call('ZREM', dead_key, id)
    ok = true
  elseif state == 'delayed' then
    redis.call('ZREM', delayed_key, id)
    ok = true
  elseif state == 'completed' then
    redis.call('ZREM', done_key, id)
    n = n + 1
    redis.call('DEL', jk)
  elseif state == 'waiting' then
    local wk = P .. ':w:' .. tenant
    redis.call('LREM', wk, 1, id)
    if redis.call('LLEN', wk) == 0 then redis.call('LREM', ring_key, 0, tenant) end
    ok = true
  end
  if ok then
    tcount(tenants_key, state, tenant, -1)
    if f[3] and f[3] ~= '' then
      local ck = P .. ':co:' .. f[3]
      if redis.call('GET', ck) == id then redis.call('DEL', ck) end
    end
    redis.call('DEL', jk)
    n = n + 1
  end
end
if n > 0 then redis.call('HINCRBY', stats_key, 'discarded', n) end
return n
