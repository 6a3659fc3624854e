-- GuildDKP: decay by a percentage, with the stated integer rounding, negatives included.
-- Run: tally run addons --clients 2 --script tests/addons/guilddkp/test_decay.lua
local h = dofile(debug.getinfo(1, "S").source:sub(2):match("^(.*)/") .. "/helpers.lua")
local clients = tally.clients()
local officer = clients[1]

-- Balances chosen around the rounding edges: taken = floor((|b| * p + 50) / 100), with b's sign.
local start = { Ada = 15, Bex = -15, Cid = 14, Dru = 4, Eli = 5, Fay = -5, Gus = 1000, Hal = 7, Ivo = -1 }
local names = {}
for name in pairs(start) do names[#names + 1] = name end
table.sort(names)
for _, name in ipairs(names) do
  h.run(officer, "/dkp roster add " .. name .. " MAGE")
  h.run(officer, string.format("/dkp adjust %s %+d import opening balance", name, start[name]))
end
h.run(officer, "/dkp roster add Zoe MAGE")  -- 0 points: untouched

local out = h.run(officer, "/dkp decay 10")
h.expectLine(out, "decayed every balance by 10%", "decay recorded")
local after10 = { Ada = 13, Bex = -13, Cid = 13, Dru = 4, Eli = 4, Fay = -4, Gus = 900, Hal = 6, Ivo = -1, Zoe = 0 }
local points = h.points(officer)
for name, expected in pairs(after10) do h.expect(points[name], expected, "10% decay of " .. name) end

-- The decay's changes are listed in sorted name order, zero changes left out.
local lines = officer:eval(string.format("return GuildDKP.Describe(%q)", h.idIn(out)))
local order = {}
for i = 3, #lines do order[#order + 1] = lines[i]:match("^  (%S+)") end
h.expect(table.concat(order, ","), "Ada,Bex,Cid,Eli,Fay,Gus,Hal", "decay walks names in sorted order")

-- skipneg keeps negative balances; 33% of 13 = 4.29 -> 4; of 6 = 1.98 -> 2.
h.run(officer, "/dkp decay 33 skipneg")
points = h.points(officer)
h.expect(points.Ada, 9, "33% of 13")
h.expect(points.Hal, 4, "33% of 6")
h.expect(points.Bex, -13, "skipneg keeps a negative balance")
h.expect(points.Gus, 603, "33% of 900")

-- A history row per decayed player, reason "decay".
local _, rows = officer:eval("return GuildDKP.History('Gus')")
h.expect(rows[#rows].r, "decay", "decay reason")
h.expect(rows[#rows].d, -297, "decay delta")

-- Limits.
h.expectLine(h.run(officer, "/dkp decay 0"), "decay percent must be a whole number 1..100", "0%")
h.expectLine(h.run(officer, "/dkp decay 101"), "decay percent must be a whole number 1..100", "101%")
h.expectLine(h.run(officer, "/dkp decay 12.5"), "decay percent must be a whole number 1..100", "fraction")

-- 100% empties every balance, negatives too.
h.run(officer, "/dkp decay 100")
for name, p in pairs(h.points(officer)) do h.expect(p, 0, "100% decay of " .. name) end

-- Many small decays stay integers (no drift): 100 decays of 1% from 10000.
h.expectLine(h.run(officer, "/dkp adjust Gus +10000 import"), "a note saying why is required", "adjust needs a note")
h.run(officer, "/dkp adjust Gus +10000 import seed")
local expected = 10000
for _ = 1, 100 do
  officer:slash("/dkp decay 1")
  expected = expected - math.floor((expected * 1 + 50) / 100)
  tally.advance(0.02)
end
h.expect(h.balance(officer, "Gus"), expected, "100 x 1% decay")
h.expect(h.balance(officer, "Gus") % 1, 0, "still an integer")

h.noErrors(clients)
print("guilddkp decay: ok")
