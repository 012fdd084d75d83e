"""The frontier's Lua scripts: each step of the protocol is one atomic round trip (vocabulary apart from logic).

Every script takes the key prefix as ``ARGV[1]`` and reads the clock with ``TIME`` (the server's clock: workers'
clocks may disagree). Times are milliseconds. Per host (``h:<host>``) the frontier keeps ``active``, the requests
of that host leased cluster-wide and still downloading or being processed; a host may be handed out while
``active`` is below its cap: 1 while its robots.txt is pending or when it has a delay, else the per-host limit.
A host with a delay becomes ready again ``delay`` ms after its previous request *finished*, so the gap between two
requests to it, from any workers, is never shorter than the delay.

Lease life: ``claim`` moves an entry from its host queue into ``leases:<worker>`` (and ``held:<worker>`` while it
holds the host slot); ``done`` frees the slot once the response is processed; ``seal`` ends the leases whose rows
a commit holds (see below); ``release`` puts a lease back at the head of its host queue (drain, failure); a worker
whose heartbeat in ``workers`` expired has all its leases put back by the next ``claim`` of any worker.

Commits are two-phase, with Redis as the log that decides them (docs/pitfalls.md §7): a worker writes its part
files under temporary names, then ``seal`` ends the commit's leases and records the commit (its files, and its
requests in case they must be redone) in ``commits:<worker>`` in one step; then the worker renames the files and
``published`` forgets the record. A worker that dies with a sealed commit has its records moved to ``recover`` by
the next ``claim``: any worker that sees the lake renames what is left (the files were complete before the seal),
or, if the files are nowhere to be seen, ``recovered`` puts the commit's requests back to be fetched again. Either
way each row is written once and none is lost.
"""

NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# ARGV: prefix, site_cap, k, then per request: host, payload, site, filter, robots, shard, k bit positions.
# Returns one code per request: 1 queued, 0 seen before, 2 over its site's page cap.
PUSH = NOW + """
local p = ARGV[1]
local cap = tonumber(ARGV[2])
local k = tonumber(ARGV[3])
local out = {}
local woke = 0
local i = 4
while i <= #ARGV do
  local host, payload, site, filter, robots, shard = ARGV[i], ARGV[i+1], ARGV[i+2], ARGV[i+3], ARGV[i+4], ARGV[i+5]
  local code = 1
  if filter == '1' then
    local new = 0
    local bits = p .. 'dupefilter:' .. shard
    for j = 1, k do
      if redis.call('SETBIT', bits, ARGV[i+5+j], 1) == 0 then new = 1 end
    end
    if new == 0 then code = 0 else redis.call('INCR', p .. 'dupefilter:count') end
  end
  if code == 1 and site ~= '' and cap > 0 then
    if redis.call('INCR', p .. 'site_pages:' .. site) > cap then code = 2 end
  end
  if code == 1 then
    if robots == '1' then redis.call('HSETNX', p .. 'robots', host, -1) end
    redis.call('RPUSH', p .. 'q:' .. host, payload)
    redis.call('INCR', p .. 'queued')
    woke = woke + redis.call('ZADD', p .. 'ready', 'NX', now, host)
  end
  out[#out + 1] = code
  i = i + 6 + k
end
if woke > 0 then redis.call('PUBLISH', p .. 'wake', woke) end
return out
"""

# A request of ``host`` stopped holding one of the host's slots.
_FREE_SLOT = """
local function free_slot(p, host)
  if redis.call('HINCRBY', p .. 'h:' .. host, 'active', -1) <= 0 then redis.call('DEL', p .. 'h:' .. host) end
end
"""

# A lease of ``worker`` ends (acknowledged or given back). Returns whether it was still this worker's, and whether
# it still held its host's slot.
_END_LEASE = """
local function end_lease(p, worker, id)
  if redis.call('HDEL', p .. 'leases:' .. worker, id) == 0 then return false, false end
  redis.call('DECR', p .. 'leased')
  return true, redis.call('SREM', p .. 'held:' .. worker, id) == 1
end
"""

# The gap a host needs between two requests: the default delay, or its robots.txt Crawl-delay when longer.
# Returns the delay and the robots state (-1 robots.txt not read yet, -2 not needed, >= 0 read).
_HOST_DELAY = """
local function host_delay(p, host, default_delay)
  local robots = tonumber(redis.call('HGET', p .. 'robots', host) or '-2')
  if robots > default_delay then return robots, robots end
  return default_delay, robots
end
"""

# Put every lease of a dead worker back at the head of its host queue, its sealed commits up for recovery, and its
# name in ``dead`` (its unsealed temporary files are removed by a worker that sees the lake).
# Used by CLAIM and RELEASE.
_REAP = _FREE_SLOT + """
local function reap(p, w, now)
  local lk, hk = p .. 'leases:' .. w, p .. 'held:' .. w
  local all = redis.call('HGETALL', lk)
  local n = 0
  for j = 1, #all, 2 do
    local id, v = all[j], all[j + 1]
    local cut = string.find(v, '\\n', 1, true)
    local host, payload = string.sub(v, 1, cut - 1), string.sub(v, cut + 1)
    if redis.call('SISMEMBER', hk, id) == 1 then free_slot(p, host) end
    redis.call('LPUSH', p .. 'q:' .. host, payload)
    redis.call('ZADD', p .. 'ready', 'NX', now, host)
    n = n + 1
  end
  redis.call('DEL', lk, hk)
  local ck = p .. 'commits:' .. w
  for _, record in ipairs(redis.call('HVALS', ck)) do redis.call('RPUSH', p .. 'recover', record) end
  redis.call('DEL', ck)
  redis.call('RPUSH', p .. 'dead', w)
  redis.call('ZREM', p .. 'workers', w)
  redis.call('INCRBY', p .. 'queued', n)
  redis.call('DECRBY', p .. 'leased', n)
  return n
end
"""

# ARGV: prefix, worker, want, per-host limit, default delay, lease ttl, reap (0/1), this worker's crawl id ("" any).
# A worker of an earlier crawl leases nothing: its rows would land under the wrong crawl id.
# Returns {reaped, next_ready (ms from now, -1 none), queued, leased, next_reap, recover, crawl id, dead, id1, host1,
# payload1, ...}.
CLAIM = NOW + _REAP + _HOST_DELAY + """
local p, worker = ARGV[1], ARGV[2]
local want, limit, default_delay, ttl = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local crawl = redis.call('GET', p .. 'crawl_id') or ''
if ARGV[8] ~= '' and crawl ~= ARGV[8] then want = 0 end
redis.call('ZADD', p .. 'workers', now + ttl, worker)
local reaped = 0
if ARGV[7] == '1' then
  for _, w in ipairs(redis.call('ZRANGEBYSCORE', p .. 'workers', '-inf', now - 1, 'LIMIT', 0, 4)) do
    reaped = reaped + reap(p, w, now)
  end
end
local out = {}
local taken = 0
if want > 0 then
  local hosts = redis.call('ZRANGEBYSCORE', p .. 'ready', '-inf', now, 'LIMIT', 0, want)
  for _, host in ipairs(hosts) do
    if taken >= want then break end
    local hk, qk = p .. 'h:' .. host, p .. 'q:' .. host
    local active = tonumber(redis.call('HGET', hk, 'active') or '0')
    local delay, robots = host_delay(p, host, default_delay)
    local hcap = limit
    if delay > 0 or robots == -1 then hcap = 1 end
    local took = 0
    while active < hcap and taken < want do
      local payload = redis.call('LPOP', qk)
      if not payload then break end
      local id = redis.call('INCR', p .. 'lease_seq')
      redis.call('HSET', p .. 'leases:' .. worker, id, host .. '\\n' .. payload)
      redis.call('SADD', p .. 'held:' .. worker, id)
      active = active + 1
      took = took + 1
      taken = taken + 1
      out[#out + 1] = tostring(id)
      out[#out + 1] = host
      out[#out + 1] = payload
    end
    if took > 0 then
      redis.call('HSET', hk, 'active', active)
      redis.call('DECRBY', p .. 'queued', took)
      redis.call('INCRBY', p .. 'leased', took)
    end
    if active >= hcap or redis.call('LLEN', qk) == 0 then redis.call('ZREM', p .. 'ready', host) end
  end
end
local first = redis.call('ZRANGE', p .. 'ready', 0, 0, 'WITHSCORES')
local next_ready = -1
if #first > 0 then next_ready = math.max(0, tonumber(first[2]) - now) end
local nw = redis.call('ZRANGE', p .. 'workers', 0, 0, 'WITHSCORES')
local next_reap = -1
if #nw > 0 then next_reap = math.max(0, tonumber(nw[2]) - now) end
local head = {reaped, next_ready, tonumber(redis.call('GET', p .. 'queued') or '0'),
              tonumber(redis.call('GET', p .. 'leased') or '0'), next_reap, redis.call('LLEN', p .. 'recover'), crawl,
              redis.call('LLEN', p .. 'dead')}
for j = 1, #out do head[#head + 1] = out[j] end
return head
"""

# A lease's response is processed: free its host slot. ARGV: prefix, worker, default delay, then (id, host) pairs.
DONE = NOW + _FREE_SLOT + _HOST_DELAY + """
local p, worker, default_delay = ARGV[1], ARGV[2], tonumber(ARGV[3])
local woke = 0
for i = 4, #ARGV, 2 do
  local id, host = ARGV[i], ARGV[i + 1]
  if redis.call('SREM', p .. 'held:' .. worker, id) == 1 then
    free_slot(p, host)
    if redis.call('LLEN', p .. 'q:' .. host) > 0 then
      local delay = host_delay(p, host, default_delay)
      woke = woke + redis.call('ZADD', p .. 'ready', 'GT', now + delay, host) + 1
    end
  end
end
if woke > 0 then redis.call('PUBLISH', p .. 'wake', woke) end
return woke
"""

# A commit's part files are written under temporary names: end its leases and, when it has files, record it so
# that it completes even if this worker dies before the renames. ARGV: prefix, worker, commit name, files (JSON
# list of [temporary, final] paths, "[]" for none), then lease ids. Returns how many leases were no longer this
# worker's (taken back after its heartbeat expired: their rows may now exist twice).
SEAL = _FREE_SLOT + _END_LEASE + """
local p, worker, name, files = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local lk = p .. 'leases:' .. worker
local requests = {}
local lost = 0
for i = 5, #ARGV do
  local entry = redis.call('HGET', lk, ARGV[i])
  if entry then
    local _, held = end_lease(p, worker, ARGV[i])
    if held then free_slot(p, string.sub(entry, 1, string.find(entry, '\\n', 1, true) - 1)) end
    requests[#requests + 1] = entry
  else
    lost = lost + 1
  end
end
if files ~= '[]' then
  local record = '{"name":' .. cjson.encode(name) .. ',"files":' .. files .. ',"requests":' .. cjson.encode(requests) .. '}'
  redis.call('HSET', p .. 'commits:' .. worker, name, record)
end
return lost
"""

# The commit's files are renamed: forget its record. ARGV: prefix, worker, commit name.
PUBLISHED = """
return redis.call('HDEL', ARGV[1] .. 'commits:' .. ARGV[2], ARGV[3])
"""

# A dead worker's commit was completed (files renamed, ARGV[3] = "0") or its files were nowhere to be found
# (ARGV[3] = "1": its requests go back to be fetched again). Only the first worker to report a record acts on it.
# ARGV: prefix, record, requeue. Returns 1 if this call took the record.
RECOVERED = NOW + """
local p, record = ARGV[1], ARGV[2]
if redis.call('LREM', p .. 'recover', 1, record) == 0 then return 0 end
if ARGV[3] == '1' then
  local n = 0
  for _, entry in ipairs(cjson.decode(record)['requests']) do
    local cut = string.find(entry, '\\n', 1, true)
    local host = string.sub(entry, 1, cut - 1)
    redis.call('LPUSH', p .. 'q:' .. host, string.sub(entry, cut + 1))
    redis.call('ZADD', p .. 'ready', 'NX', now, host)
    n = n + 1
  end
  redis.call('INCRBY', p .. 'queued', n)
  if n > 0 then redis.call('PUBLISH', p .. 'wake', n) end
end
return 1
"""

# Give leases back. ARGV: prefix, worker, then (id, host, payload) triples; a payload "!<reason>" gives the request
# up instead (counted in ``dropped`` under the reason: malformed, gave_up). With the ids "*" every lease of the
# worker goes back (drain, exit).
RELEASE = NOW + _REAP + _END_LEASE + """
local p, worker = ARGV[1], ARGV[2]
if ARGV[3] == '*' then return reap(p, worker, now) end
local n = 0
for i = 3, #ARGV, 3 do
  local id, host, payload = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local ours, held = end_lease(p, worker, id)
  if ours then
    n = n + 1
    if held then free_slot(p, host) end
    if string.sub(payload, 1, 1) == '!' then
      redis.call('HINCRBY', p .. 'dropped', string.sub(payload, 2), 1)
    else
      redis.call('LPUSH', p .. 'q:' .. host, payload)
      redis.call('INCR', p .. 'queued')
    end
    if redis.call('LLEN', p .. 'q:' .. host) > 0 then redis.call('ZADD', p .. 'ready', 'NX', now, host) end
  end
end
if n > 0 then redis.call('PUBLISH', p .. 'wake', n) end
return n
"""

# robots.txt of a host read: ARGV prefix, host, delay ms (0 none). Wakes workers: the host may take more now.
ROBOTS = """
local p, host = ARGV[1], ARGV[2]
redis.call('HSET', p .. 'robots', host, ARGV[3])
if redis.call('LLEN', p .. 'q:' .. host) > 0 then redis.call('PUBLISH', p .. 'wake', 1) end
return 1
"""
