-- GuildDKP: the DKP roster: import from the guild roster, check classes, add and remove.
-- Run: tally run addons --clients 4 --script tests/addons/guilddkp/test_roster.lua
local h = dofile(debug.getinfo(1, "S").source:sub(2):match("^(.*)/") .. "/helpers.lua")
local clients = tally.clients()
local officer = clients[1]

h.expectLine(h.run(officer, "/dkp roster check"), "roster check: 4 missing, 0 class differences, 0 outside the guild", "empty roster")
h.expectLine(h.run(officer, "/dkp roster import"), "imported 4 new and 0 changed member(s)", "import")
h.expectLine(h.run(officer, "/dkp roster import"), "already matches the guild", "import twice")
local out = h.run(officer, "/dkp roster")
h.expectLine(out, "4 member(s) in the DKP roster", "roster size")
h.expectLine(out, "Brannoc      PRIEST    [Officer]", "class and guild rank")
h.expectLine(out, "Dagna        ROGUE     [Member]", "a member")

-- A class typed wrong, and someone outside the guild, show up in the check; import fixes the
-- class and leaves the outsider alone.
h.run(officer, "/dkp roster add brannoc warrior")
h.run(officer, "/dkp roster add Zed-Elsewhere MAGE")
out = h.run(officer, "/dkp roster check")
h.expectLine(out, "class differs: Brannoc is PRIEST in the guild, WARRIOR in the DKP roster", "class check")
h.expectLine(out, "not in the guild: Zed-Elsewhere", "outsider")
h.expectLine(h.run(officer, "/dkp roster import"), "imported 0 new and 1 changed", "import fixes the class")
h.expectLine(h.run(officer, "/dkp roster"), "Zed-Elsewhere MAGE      [not in the guild]", "outsider kept")
h.expectLine(h.run(officer, "/dkp roster add Bad,Name MAGE"), "is not Name:CLASS", "bad names refused")
h.expectLine(h.run(officer, "/dkp roster add Odd PIRATE"), "is not Name:CLASS", "unknown class refused")

-- Removing keeps points and history; removed members get no new awards by name.
h.run(officer, "/dkp award Dagna,Cyrielle 10 boss_kill")
h.expectLine(h.run(officer, "/dkp roster remove Dagna"), "Dagna removed from the DKP roster (points kept)", "remove")
h.expectLine(h.run(officer, "/dkp roster remove Dagna"), "Dagna is not in the DKP roster", "remove twice")
h.expect(h.points(officer).Dagna, 10, "a removed member keeps her points in the standings")
h.expectLine(h.run(officer, "/dkp award Dagna 5 boss_kill"), "Dagna is not in the DKP roster", "no awards by name")
h.expectNoLine(h.run(officer, "/dkp roster"), "Dagna", "not listed in the roster")
-- A raid award brings her back (she is in the raid).
h.expectLine(h.run(officer, "/dkp award raid 5 on_time"), "added 1 raid member(s)", "back through the raid")
h.expect(h.balance(officer, "Dagna"), 15, "and awarded")

h.noErrors(clients)
print("guilddkp roster: ok")
