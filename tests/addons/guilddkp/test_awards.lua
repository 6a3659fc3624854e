-- GuildDKP: awards to one player, to several, to the raid, to the bench; reasons and limits.
-- Run: tally run addons --clients 8 --script tests/addons/guilddkp/test_awards.lua
local h = dofile(debug.getinfo(1, "S").source:sub(2):match("^(.*)/") .. "/helpers.lua")
local clients = tally.clients()
local officer = clients[1]

h.run(officer, "/dkp roster add Dagna ROGUE")
h.run(officer, "/dkp roster add Eowald DRUID")

-- One player, with a reason code (aliases accepted) and a note.
local out = h.run(officer, "/dkp award Dagna 10 boss Ragnaros")
h.expectLine(out, "awarded 10 (boss_kill) to 1 player(s)", "single award")
h.expect(h.balance(officer, "Dagna"), 10, "Dagna after a single award")
local _, rows = officer:eval("return GuildDKP.History('Dagna')")
h.expect(rows[1].r, "boss_kill", "reason code stored")
h.expect(rows[1].n, "Ragnaros", "note stored")

-- Several players at once, case-insensitive names; a player listed twice is credited once.
h.run(officer, "/dkp award dagna,EOWALD,Dagna 5 on_time")
h.expect(h.balance(officer, "Dagna"), 15, "Dagna after a list award")
h.expect(h.balance(officer, "Eowald"), 5, "Eowald after a list award")

-- Refusals say why and record nothing.
h.expectLine(h.run(officer, "/dkp award Dagna 10 bribe"), "unknown reason 'bribe'", "unknown reason")
h.expectLine(h.run(officer, "/dkp award Dagna 0 boss"), "whole number of points", "zero award")
h.expectLine(h.run(officer, "/dkp award Dagna 2.5 boss"), "whole number of points", "fractional award")
h.expectLine(h.run(officer, "/dkp award Dagna -5 boss"), "whole number of points", "negative award")
h.expectLine(h.run(officer, "/dkp award Dagnaa 5 boss"), "Dagnaa is not in the DKP roster", "typo in a name")
h.expect(h.balance(officer, "Dagna"), 15, "refused awards changed nothing")

-- A raid award is one command: its roster additions and its award entries are written
-- together or not at all. Refused (a member is no officer; an officer's amount is too large),
-- it writes nothing, not even the roster additions.
local member = clients[4]
local memberSize = member:eval("return GuildDKP.Size()")
h.expectLine(h.run(member, "/dkp award raid 20 boss_kill"), "may not award points: officers only", "a member's raid award")
h.expect(member:eval("return GuildDKP.Size()"), memberSize, "the member's refused raid award wrote nothing")
local size = officer:eval("return GuildDKP.Size()")
out = h.run(officer, "/dkp award raid 2000000 boss_kill")
h.expectLine(out, "an award is a whole number of points", "a raid award refused at its award entry")
h.expectNoLine(out, "added", "no roster additions announced")
h.expect(officer:eval("return GuildDKP.Size()"), size, "the refused raid award wrote nothing")
h.expectNoLine(h.run(officer, "/dkp roster"), "Hestia", "the raid members were not added")

-- The raid: names read from GetRaidRosterInfo at submit time and stored in the entry; raid
-- members the DKP roster did not know are added with their class, in the same command.
out = h.run(officer, "/dkp award raid 20 boss_kill Onyxia")
h.expect(officer:eval("return GuildDKP.Size()"), size + 2, "one roster entry and one award entry")
h.expectLine(out, "added 6 raid member(s) to the DKP roster", "raid members added to the roster")
h.expectLine(out, "awarded 20 (boss_kill) to 8 raid", "raid award")
local raidAward = h.idIn(out)
local points = h.points(officer)
h.expect(points.Aelric, 20, "raid award: Aelric")
h.expect(points.Hestia, 20, "raid award: Hestia")
h.expect(points.Dagna, 35, "raid award: Dagna")
local lines = officer:eval(string.format("return GuildDKP.Describe(%q)", raidAward))
h.expectLine(lines, "award 20 boss_kill to 8 raid", "the raid award's effect")
h.expectLine(lines, "Hestia", "the entry lists Hestia")
h.expect(officer:eval("return select(2, UnitClass('Hestia'))"), "PALADIN", "Hestia's class in the raid")
h.expectLine(h.run(officer, "/dkp roster"), "Hestia       PALADIN", "the roster took the raid's class")

-- GuildDKP.Award runs the same command: refused entirely when a later entry is refused.
local refusedIds, why = officer:eval("return GuildDKP.Award{ kind = 'player', names = { 'Dagna', 'Nobodyhere' }, amount = 1, reason = 'bonus' }")
h.expect(refusedIds, nil, "an award naming someone unknown is refused")
h.expect(why, "Nobodyhere is not in the DKP roster (add with /dkp roster add Nobodyhere CLASS)", "with the reason")
local ids = officer:eval("return GuildDKP.Award{ kind = 'player', names = { 'dagna' }, amount = 1, reason = 'bonus' }")
h.expect(#ids, 1, "GuildDKP.Award wrote one entry")
h.expect(h.balance(officer, "Dagna"), 36, "Dagna after GuildDKP.Award")
h.expectLine(h.run(officer, "/dkp undo " .. ids[1]), "undid", "undo the API award")

-- Someone who left the raid gets nothing from the next raid award.
clients[8]:set_group(0, 0)
h.run(officer, "/dkp award raid 5 on_time")
points = h.points(officer)
h.expect(points.Hestia, 20, "Hestia left before the second raid award")
h.expect(points.Garruk, 25, "Garruk stayed")

-- Standby: the bench list; bench players who are in the raid are left out.
h.expectLine(h.run(officer, "/dkp award standby 5 standby"), "the bench is empty", "empty bench")
h.expectLine(h.run(officer, "/dkp bench add Hestia,Garruk"), "bench: Garruk, Hestia", "bench list")
out = h.run(officer, "/dkp award standby 10 standby Onyxia bench")
h.expectLine(out, "awarded 10 (standby) to 1 standby", "standby award")
points = h.points(officer)
h.expect(points.Hestia, 30, "benched Hestia got the standby award")
h.expect(points.Garruk, 25, "Garruk is in the raid: no standby award")
h.expectLine(h.run(officer, "/dkp bench remove Garruk"), "bench: Hestia", "bench remove")
h.expectLine(h.run(officer, "/dkp bench clear"), "bench: (empty)", "bench clear")

-- A list too long for one entry is split into parts; undoing one part undoes them all.
local names = {}
for i = 1, 60 do names[i] = string.format("Raider%02d-Averyveryverylongrealm", i) end
for i = 1, 60 do officer:slash("/dkp roster add " .. names[i] .. " MAGE") end
out = h.run(officer, "/dkp award " .. table.concat(names, ",") .. " 7 progression")
h.expectLine(out, "awarded 7 (progression) to 60 player(s)", "long list award")
local first = h.idIn(out)
for i = 1, 60 do h.expect(h.balance(officer, names[i]), 7, names[i] .. " got the split award") end
local parts = officer:eval(string.format("return GuildDKP.Describe(%q)[2]", first))
h.truthy(parts:find("(part 1/", 1, true), "the award was split: " .. parts)
out = h.run(officer, "/dkp undo " .. first)
h.truthy(#out >= 2, "every part undone")
for i = 1, 60 do h.expect(h.balance(officer, names[i]), 0, names[i] .. " after undoing the split award") end

h.noErrors(clients)
print("guilddkp awards: ok")
