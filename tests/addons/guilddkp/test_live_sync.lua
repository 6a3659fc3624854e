-- GuildDKP over the ledger's own sync: what an officer records on his client reaches every
-- other client within seconds, and all of them show the same standings and state hash. A
-- member whose client lies about her rank gets her award into her own ledger only: every other
-- client refuses it. A client that was offline catches up from whoever is online, members
-- included: the creator's rank counts, not the sender's.
-- Run: tally run addons --clients 5 --script tests/addons/guilddkp/test_live_sync.lua
local h = dofile(debug.getinfo(1, "S").source:sub(2):match("^(.*)/") .. "/helpers.lua")
local clients = tally.clients()
local aelric, brannoc, cyrielle, dagna, eowald = unpack(clients, 1, 5)

local function hash(c)
  local adler, fingerprint, lag = c:eval("return GuildDKP.StateHash()")
  return adler .. " " .. fingerprint, lag
end

-- Every client in `list` shows what `reference` shows: state hash, standings, nothing pending.
local function expectSame(list, reference, what)
  local want, standings = hash(reference), h.standingsText(reference)
  for _, c in ipairs(list) do
    local got, lag = hash(c)
    h.expect(lag, 0, c:name() .. ": nothing left to replay (" .. what .. ")")
    h.expect(got, want, c:name() .. ": same state hash as " .. reference:name() .. " (" .. what .. ")")
    h.expect(h.standingsText(c), standings, c:name() .. ": same standings (" .. what .. ")")
  end
end

------------------------------------------------------------------------------------------------
-- 1. An officer records; every client, members included, sees it after a few seconds.
h.run(brannoc, "/dkp roster import")
h.run(brannoc, "/dkp award raid 10 boss_kill Onyxia")
h.run(brannoc, "/dkp award Dagna,Eowald 5 on_time")
local slip = h.idIn(h.run(brannoc, "/dkp award Eowald 300 manual"))
h.run(brannoc, "/dkp undo " .. slip)
h.expect(h.balance(dagna, "Dagna"), 0, "not there yet")
tally.advance(1.2)
h.run(cyrielle, "/dkp decay 10")  -- Cyrielle's own entry, whatever of Brannoc's she has by now
tally.advance(10)
local dagnaPoints, eowaldPoints = h.balance(brannoc, "Dagna"), h.balance(brannoc, "Eowald")
h.expect(dagnaPoints, 15 - 2, "Brannoc's awards, then Cyrielle's decay (15 - 1.5 rounded)")
h.expect(h.balance(dagna, "Dagna"), dagnaPoints, "Dagna sees her points on her own client")
expectSame(clients, brannoc, "after the officers' entries")
h.expect(dagna:eval("return GuildDKP.SyncStatus().state"), "synced", "Dagna's client says it is in sync")

------------------------------------------------------------------------------------------------
-- 2. A forged award: Dagna's client reports her as an officer, so GuildDKP there lets her award
-- herself. The entry syncs out; every other client checks its creator against the real guild
-- roster and refuses it, once, saying why.
dagna:run([[
  local real = GetGuildRosterInfo
  GetGuildRosterInfo = function(i)
    local row = { real(i) }
    if row[1] == "Dagna-Tally" then row[2], row[3] = "Officer", 1 end
    return unpack(row, 1, 17)
  end
]])
dagna:fire("GUILD_ROSTER_UPDATE", false)
local marks = {}
for _, c in ipairs(clients) do marks[c] = #c:log() end
h.expectLine(h.run(dagna, "/dkp award Dagna 500 manual"), "awarded 500", "the lying client takes it")
h.expect(h.balance(dagna, "Dagna"), dagnaPoints + 500, "in Dagna's own ledger")
tally.advance(60)
for _, c in ipairs({ aelric, brannoc, cyrielle, eowald }) do
  h.expect(h.balance(c, "Dagna"), dagnaPoints, c:name() .. " refused the forged award")
  local lines = h.since(c, marks[c])
  h.expectLine(lines, "GuildDKP: refused a award entry from Dagna-Tally: Dagna (rank 3, Member) may not award points",
    c:name() .. " says why")
  local count = 0
  for _, line in ipairs(lines) do
    if line:find("refused a award entry", 1, true) then count = count + 1 end
  end
  h.expect(count, 1, c:name() .. " reports the forged entry once, however often sync offers it")
end
expectSame({ aelric, cyrielle, eowald }, brannoc, "the forged award counts nowhere else")
h.expect(hash(dagna) ~= hash(brannoc), true, "only Dagna's ledger holds it")

------------------------------------------------------------------------------------------------
-- 3. Relayed by members: Cyrielle logs out; Brannoc awards and goes offline, as does Aelric.
-- Back in, Cyrielle can only get Brannoc's award from Dagna or Eowald (members). She takes it:
-- the creator is an officer. Dagna's forged award, offered too, she refuses.
cyrielle:logout()
local award = h.idIn(h.run(brannoc, "/dkp award Eowald 20 boss_kill Razorgore"))
tally.advance(10)
h.expect(h.balance(eowald, "Eowald"), eowaldPoints + 20, "Eowald has the award")
brannoc:set_online(false)
aelric:set_online(false)
local mark = #eowald:log()
cyrielle:login()
tally.advance(60)
h.expect(cyrielle:eval(string.format("return (GuildDKP.Describe(%q) or {})[2]", award)), "award 20 boss_kill to 1 player(s)",
  "Cyrielle has Brannoc's award, relayed by a member")
h.expect(h.balance(cyrielle, "Dagna"), dagnaPoints, "and not Dagna's forged one")
expectSame({ cyrielle, eowald }, brannoc, "after the relay")
h.expectNoLine(h.since(eowald, mark), "refused", "nothing refused on Eowald's side")
brannoc:set_online(true)
aelric:set_online(true)
tally.advance(30)
expectSame({ aelric, cyrielle, eowald }, brannoc, "everyone back online")

h.noErrors(clients)
print("guilddkp live sync: ok")
