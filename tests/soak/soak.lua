-- Soak: a guild on one synced ledger for several simulated days. The guild master and the two
-- officers (clients 1-3, as `tally sim` ranks them) award points every ten minutes; a member tries
-- to, and is refused; a tenth of the members log out each hour and back in the next; the last
-- client is away for most of the run and catches up when it returns. Checks, failing the run:
--   * every logged-in client holds the same ledger at the end of each day, soon after the last
--     award (the convergence time is printed), and the away client catches up;
--   * no client's Lua heap grows past TALLY_SOAK_CLIENT_KB, and the memory the process holds in
--     use over the last six hours exceeds its peak over hours 6-12 (after warm-up) by at most
--     TALLY_SOAK_GROWTH_MB plus TALLY_SOAK_ENTRY_KB for every entry each client added since:
--     memory grows with the ledger (about 0.3 KB an entry a client), and with nothing else;
--   * no member's award got in anywhere.
-- Frame times are in `tally sim`'s report; tests/soak/check_report.lua checks them.
--
--   tally sim tests/data/addons_host --clients 40 --fps 2 --quiet --faults loss=0.05,jitter=0.2 \
--     --script tests/soak/soak.lua --report-json soak.json        (the CI version: one day)
--   TALLY_SOAK_DAYS=3 tally sim tests/data/addons_host --clients 200 --fps 2 ...   (docs/reliability.md)
local days = tonumber(os.getenv("TALLY_SOAK_DAYS") or "1")
local client_kb_limit = tonumber(os.getenv("TALLY_SOAK_CLIENT_KB") or "4096")
local growth_mb_limit = tonumber(os.getenv("TALLY_SOAK_GROWTH_MB") or "32")
local entry_kb_limit = tonumber(os.getenv("TALLY_SOAK_ENTRY_KB") or "1")
local hour, step = 3600, 600

local clients = tally.clients()
assert(#clients >= 8, "the soak needs at least 8 clients")
local officers = { clients[1], clients[2], clients[3] }
local away = clients[#clients]
local members = {}
for i = 4, #clients - 1 do members[#members + 1] = clients[i] end

local setup = [[
  local function officer(creator)
    local suffix = string.format("%08X", creator)
    for i = 1, GetNumGuildMembers() do
      local _, _, rank, _, _, _, _, _, _, _, _, _, _, _, _, _, guid = GetGuildRosterInfo(i)
      if guid and guid:sub(-8) == suffix then return rank <= 1 end
    end
    return false
  end
  G = Tally.NewLedger{ name = "SoakPoints", sync = true, initialState = function() return { points = {} } end,
    authorize = function(entry) return officer(entry.creator), "officers only" end }
  G:RegisterMutator("award", function(state, data)
    state.points[data.player] = (state.points[data.player] or 0) + data.amount
  end)
]]
for _, c in ipairs(clients) do c:run(setup) end

local function online(c) return c:eval("return IsLoggedIn()") end
local function login(c)
  c:login()
  c:run(setup)
end

-- Memory. What malloc holds in use (glibc's mallinfo2, through this trusted state's FFI): memory
-- freed and kept by malloc for reuse does not count, so what grows is what is still referenced,
-- C++ and every client's Lua heap alike. Where mallinfo2 reports nothing (a sanitizer's malloc),
-- the resident size stands in. The resident size is printed too.
local ffi = require("ffi")
ffi.cdef [[
  struct tally_soak_mallinfo2 { size_t arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost; };
  struct tally_soak_mallinfo2 mallinfo2(void);
]]
local function rss_mb()
  local f = assert(io.open("/proc/self/status"))
  local status = f:read("*a")
  f:close()
  return tonumber(status:match("VmRSS:%s*(%d+)")) / 1024
end
local function in_use_mb()
  local m = ffi.C.mallinfo2()
  local bytes = tonumber(m.uordblks + m.hblkhd)
  if bytes == 0 then return rss_mb() end
  return bytes / 2 ^ 20
end
local measured = tonumber(ffi.C.mallinfo2().uordblks) > 0 and "in use" or "resident"
local peak_client_kb, peak_client = 0, nil
local function sample_clients()
  for _, c in ipairs(clients) do
    if online(c) then
      local kb = c:eval("return collectgarbage('count')")
      if kb > peak_client_kb then peak_client_kb, peak_client = kb, c:name() end
    end
  end
end

-- Whether every logged-in client holds the same entries.
local function agreed()
  local size, fingerprint
  for _, c in ipairs(clients) do
    if online(c) then
      local s, f = c:eval("return G:Size(), select(2, G:StateHash())")
      if size == nil then size, fingerprint = s, f
      elseif s ~= size or f ~= fingerprint then return false end
    end
  end
  return true, size
end

-- Advances in 10 s steps until every logged-in client agrees; returns the seconds it took.
local function converge(what, limit)
  local waited = 0
  while not agreed() do
    if waited >= limit then error(what .. ": clients still differ after " .. limit .. " s", 2) end
    tally.advance(10)
    waited = waited + 10
  end
  return waited
end

local used, rss, entries = {}, {}, {}  -- by hour of the run
local awards, refused = 0, 0
local away_leaves = 2
local away_returns = (days - 1) * 24 + (days > 1 and 12 or 20)
local worst_convergence, catch_up = 0, nil
local churned = {}

for h = 0, days * 24 - 1 do
  if h == away_leaves then away:logout() end
  if h == away_returns then
    login(away)
    local waited = 0
    while away:eval("return G:Size()") < officers[1]:eval("return G:Size()") do
      assert(waited < hour, "the away client did not catch up within an hour")
      tally.advance(10)
      waited = waited + 10
    end
    catch_up = { entries = away:eval("return G:Size()"), seconds = waited }
  end
  -- Last hour's tenth of the members come back; another tenth leaves, except in the day's last
  -- hour, which measures convergence.
  for _, c in ipairs(churned) do login(c) end
  churned = {}
  local last_hour = h % 24 == 23
  for i, c in ipairs(members) do
    if not last_hour and i % 10 == h % 10 then
      c:logout()
      churned[#churned + 1] = c
    end
  end
  local member = members[(h % #members) + 1]
  if online(member) then
    assert(member:eval("return G:Submit('award', { player = 'Me', amount = 1000 })") == nil, "a member's award was accepted")
    refused = refused + 1
  end
  if last_hour then
    -- The day's last award, with last hour's members just back: how long until all agree.
    officers[1]:run("G:Submit('award', { player = 'Raider0', amount = 1 })")
    awards = awards + 1
    local seconds = converge("day " .. (h + 1) / 24, hour)
    worst_convergence = math.max(worst_convergence, seconds)
    local _, size = agreed()
    print(string.format("day %d: every logged-in client holds the same %d entries %d s after the day's last award",
                        (h + 1) / 24, size, seconds))
    tally.advance(hour - seconds)
  else
    -- Awards every ten minutes.
    for s = 0, hour - step, step do
      for o, c in ipairs(officers) do
        c:run(string.format("G:Submit('award', { player = 'Raider%d', amount = %d })", (h * 6 + s / step + o) % 25, o))
        awards = awards + 1
      end
      tally.advance(step)
    end
  end
  used[h], rss[h], entries[h] = in_use_mb(), rss_mb(), officers[1]:eval("return G:Size()")
  if h % 6 == 5 then
    sample_clients()
    print(string.format("hour %d: %d entries, %s %.0f MB, resident %.0f MB, largest client heap so far %.0f KB",
                        h + 1, entries[h], measured, used[h], rss[h], peak_client_kb))
    io.stdout:flush()  -- progress shows during long runs, even into a file
  end
end

-- Everyone back for the final comparison.
for _, c in ipairs(clients) do
  if not online(c) then login(c) end
end
worst_convergence = math.max(worst_convergence, converge("the end", 2 * hour))
sample_clients()
for _, c in ipairs(clients) do
  assert(c:eval("return G:State().points.Me") == nil, "a member's award got in on " .. c:name())
end

local function peak(series, from, to)
  local m = 0
  for h = from, to do m = math.max(m, series[h] or 0) end
  return m
end
local hours = days * 24
local settled, final = peak(used, 6, 11), peak(used, hours - 6, hours - 1)
local copies = (entries[hours - 1] - entries[11]) * #clients
local allowed = settled + growth_mb_limit + copies * entry_kb_limit / 1024
print(string.format("soak: %d clients x %d simulated hours; %d awards, %d member awards refused", #clients, hours, awards,
                    refused))
print(string.format("memory %s: %.0f MB after warm-up (hours 6-12), %.0f MB over the last 6 hours (allowed %.0f MB: %d MB" ..
                    " more, and %d KB for each of %d entry copies added since); resident peak %.0f MB; largest client" ..
                    " heap %.0f KB (%s)", measured, settled, final, allowed, growth_mb_limit, entry_kb_limit, copies,
                    peak(rss, 0, hours - 1), peak_client_kb, peak_client))
print(string.format("convergence: at most %d s after a day's last award; the away client caught up %d entries in %d s",
                    worst_convergence, catch_up.entries, catch_up.seconds))
assert(peak_client_kb <= client_kb_limit,
       string.format("a client's Lua heap reached %.0f KB (limit %d KB)", peak_client_kb, client_kb_limit))
assert(final <= allowed,
       string.format("memory %s grew from %.0f to %.0f MB (allowed %.0f MB)", measured, settled, final, allowed))
