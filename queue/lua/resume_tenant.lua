--[[
  Move one tenant's delayed jobs to its waiting list now (a tenant whose jobs were parked with
  a far retry-at, e.g. while its authorization had expired, is resumed). Examines at most
  `chunk` delayed entries from rank `start`, so one call stays short; the caller continues
  from the returned rank until `scanned` < `chunk`.

  Input:
    KEYS[1] delayed    ZSET  id -> due ms
    KEYS[2] ring       LIST  tenants with waiting jobs
    KEYS[3] marker     ZSET  wake-up marker
    KEYS[4] tenants    HASH  "<state>:<tenant>" -> count
    KEYS[5] stats      HASH  counters

    ARGV[1] P          (string) key prefix; dynamic keys P:job:<id>, P:w:<tenant> share its
                       hash tag
    ARGV[2] tenant     (string) the tenant to resume
    ARGV[3] start      (int) rank in the delayed set to start examining at (0 first)
    ARGV[4] chunk      (int) entries to examine, <= 1000

  Returns:
    { moved, scanned, next_start } where next_start is the rank to continue at (entries moved
    out shift later ranks down)

  Errors:
    none
]]
local delayed_key, ring_key, marker_key, tenants_key, stats_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local P, tenant = ARGV[1], ARGV[2]
local start, chunk = tonumber(ARGV[3]), tonumber(ARGV[4])
local now = now_ms()
local ids = redis.call('ZRANGE', delayed_key, start, start + chunk - 1)
local n = 0
for _, id in ipairs(ids) do
  local jk = P .. ':job:' .. id
  local f = redis.call('HMGET', jk, 'tenant', 'state')
  if f[1] == tenant and f[2] == 'delayed' then
    redis.call('ZREM', delayed_key, id)
    redis.call('HSET', jk, 'state', 'waiting', 'due_ms', now)
    push_waiting(P, ring_key, tenant, id, false)
    tcount(tenants_key, 'delayed', tenant, -1)
    tcount(tenants_key, 'waiting', tenant, 1)
    n = n + 1
  end
end
if n > 0 then
  redis.call('ZADD', marker_key, 0, 'r')
  redis.call('HINCRBY', stats_key, 'resumed', n)
end
return { n, #ids, start + #ids - n }
