-- Lua test: guild and group rosters, unit functions and messages between addons, on 7 clients.
-- Run: tally run tests/data/addons_host --clients 7 --script tests/lua/test_roster_messages.lua
local function expect(actual, expected, what)
  if actual ~= expected then
    error(string.format("%s: expected %s, got %s", what, tostring(expected), tostring(actual)), 2)
  end
end

local clients = tally.clients()
local a, b, g = clients[1], clients[2], clients[7]

-- The guild: every client, sorted by name, with the CLI's ranks (leader, two officers, members).
expect(a:eval("return IsInGuild()"), true, "in a guild")
expect(a:eval("return (GetNumGuildMembers())"), 7, "guild size")
expect(a:eval("return (GetGuildInfo('player'))"), "Tally Guild", "guild name")
expect(a:eval("return select(3, GetGuildInfo('player'))"), 0, "leader's rank index")
expect(b:eval("return select(2, GetGuildInfo('player'))"), "Officer", "officer's rank name")
expect(g:eval("return select(3, GetGuildInfo('player'))"), 3, "member's rank index")
expect(a:eval("return GetGuildRosterInfo(1)"), "Aelric-Tally", "roster sorted by name")
expect(a:eval("return select(11, GetGuildRosterInfo(2))"), "PRIEST", "class file in the roster")
expect(a:eval("return GuildControlGetRankName(2)"), "Officer", "rank names")
expect(a:eval("return GetGuildRosterInfo(99)"), nil, "past the roster")

-- Rank changes reach every client's roster and fire GUILD_ROSTER_UPDATE.
b:run([[
  RosterUpdates = 0
  local f = CreateFrame("Frame")
  f:RegisterEvent("GUILD_ROSTER_UPDATE")
  f:SetScript("OnEvent", function() RosterUpdates = RosterUpdates + 1 end)
]])
g:set_rank(1)
expect(b:eval("return RosterUpdates"), 1, "GUILD_ROSTER_UPDATE fired")
expect(b:eval("for i = 1, GetNumGuildMembers() do local n, _, r = GetGuildRosterInfo(i) if n == 'Garruk-Tally' then return r end end"), 1, "promoted")
local ok = pcall(g.set_rank, g, 17)
expect(ok, false, "a rank outside the ranks is refused")

-- The raid: 7 members in subgroups of 5, the first client leads.
expect(a:eval("return IsInRaid()"), true, "in a raid")
expect(a:eval("return GetNumGroupMembers()"), 7, "raid size")
expect(a:eval("return GetRaidRosterInfo(1)"), "Aelric", "raid member 1, realm left out")
expect(a:eval("return select(2, GetRaidRosterInfo(1))"), 2, "leader rank")
expect(a:eval("return select(3, GetRaidRosterInfo(6))"), 2, "sixth member in subgroup 2")
expect(a:eval("return UnitName('raid2')"), "Brannoc", "raid unit token")
expect(a:eval("return UnitName('party1')"), "Brannoc", "party1 = next member of my subgroup")
expect(a:eval("return select(2, UnitClass('Cyrielle'))"), "MAGE", "UnitClass by name")
expect(a:eval("return UnitLevel('player')"), 60, "UnitLevel")
expect(a:eval("return UnitIsGroupLeader('player')"), true, "leader")
expect(a:eval("return UnitInRaid('raid3')"), 2, "UnitInRaid is 0-based")
expect(a:eval("return UnitExists('raid40')"), false, "no such raid member")
expect(a:eval("return Ambiguate('Brannoc-Tally', 'none')"), "Brannoc", "Ambiguate same realm")
expect(a:eval("return Ambiguate('Zed-Elsewhere', 'none')"), "Zed-Elsewhere", "Ambiguate other realm")

-- Leaving the raid.
g:set_group(0, 0)
expect(g:eval("return IsInRaid()"), false, "left the raid")
expect(g:eval("return GetNumGroupMembers()"), 0, "alone")
expect(a:eval("return GetNumGroupMembers()"), 6, "raid shrank")

-- Messages between addons: every receiver runs, a failing one hurts only itself.
a:run([[
  Got = {}
  local h1 = Tally.RegisterMessage("AUCTION_WON", function(msg, item, winner) Got[#Got + 1] = msg .. ":" .. item .. ":" .. winner end)
  Tally.RegisterMessage("AUCTION_WON", function() error("listener broke") end)
  Tally.RegisterMessage("AUCTION_WON", function(_, item) Got[#Got + 1] = "second:" .. item end)
  Reached = Tally.SendMessage("AUCTION_WON", "Thunderfury", "Dagna")
  Removed = Tally.UnregisterMessage(h1)
  RemovedAgain = Tally.UnregisterMessage(h1)
  ReachedAfter = Tally.SendMessage("AUCTION_WON", "Onyxia Tooth", "Fenwyn")
  Nobody = Tally.SendMessage("NOBODY_LISTENS")
]])
expect(a:eval("return Reached"), 3, "three receivers")
expect(a:eval("return Got[1]"), "AUCTION_WON:Thunderfury:Dagna", "first receiver")
expect(a:eval("return Got[2]"), "second:Thunderfury", "third receiver ran after the failing one")
expect(a:eval("return Removed, RemovedAgain"), true, "unregistered")
expect(a:eval("return ReachedAfter"), 2, "two receivers left")
expect(a:eval("return Nobody"), 0, "no receivers")
local errors = a:log(true)
expect(errors[#errors]:find("listener broke", 1, true) ~= nil, true, "the failure reached the error handler")
expect(pcall(a.eval, a, "Tally.RegisterMessage(1, 2)"), false, "bad arguments raise")
print("roster and messages: ok")
