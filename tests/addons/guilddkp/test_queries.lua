-- GuildDKP: standings (order and ties), a player's history with running balance, what an
-- entry changed.
-- Run: tally run addons --clients 5 --script tests/addons/guilddkp/test_queries.lua
local h = dofile(debug.getinfo(1, "S").source:sub(2):match("^(.*)/") .. "/helpers.lua")
local clients = tally.clients()
local officer = clients[1]

h.run(officer, "/dkp roster import")
h.run(officer, "/dkp award Eowald,Brannoc 10 boss_kill")
h.run(officer, "/dkp award Dagna 20 boss_kill")
h.run(officer, "/dkp adjust Cyrielle -5 penalty afk")

-- More points first; equal points by name (byte order), so Brannoc before Eowald and the
-- zero balances in name order; negative last.
h.expect(h.standingsText(officer), "Dagna:20,Brannoc:10,Eowald:10,Aelric:0,Cyrielle:-5", "standings order")
local out = h.run(officer, "/dkp standings")
h.expect(out[1], " 1. Dagna        ROGUE        20", "first line")
h.expect(out[2], " 2. Brannoc      PRIEST       10", "tie: by name")
h.expect(out[3], " 3. Eowald       DRUID        10", "tie: by name")
-- The order does not depend on the order entries were written in.
h.run(officer, "/dkp award Aelric 10 manual")
h.expect(h.standingsText(officer), "Dagna:20,Aelric:10,Brannoc:10,Eowald:10,Cyrielle:-5", "a new tie sorts by name")
-- A class filter.
out = h.run(officer, "/dkp standings priest")
h.expect(#out, 1, "one priest")
h.expectLine(out, "Brannoc", "the priest")

-- History: every change with its running balance; the last balance is the current one.
h.run(officer, "/dkp award Dagna 7 on_time")
h.run(officer, "/dkp auction open 19019 Thunderfury")
h.run(officer, "/dkp bidfor Dagna 12")
h.run(officer, "/dkp auction close 1")
h.run(officer, "/dkp decay 10")
local main, rows = officer:eval("return GuildDKP.History('Dagna')")
h.expect(main, "Dagna", "history main")
h.expect(#rows, 4, "four changes")
local running = 0
for i, r in ipairs(rows) do
  running = running + r.d
  h.expect(r.b, running, "running balance at row " .. i)
end
h.expect(rows[3].r, "loot", "the purchase")
h.expect(rows[3].n, "Thunderfury", "the item")
h.expect(rows[4].r, "decay", "the decay")
h.expect(running, h.balance(officer, "Dagna"), "the last running balance is the balance")
out = h.run(officer, "/dkp history dagna")
h.expectLine(out, "history of Dagna: 4 entries", "history header")
h.expectLine(out, "    -12     15  loot        Thunderfury", "history line with running balance")

-- What an entry changed: type, author, time, summary, and each player's change.
local decayId = rows[4].id
out = h.run(officer, "/dkp entry " .. decayId)
h.expectLine(out, "decay " .. decayId .. " by Aelric at ", "entry header")
h.expectLine(out, "decay 10%", "entry summary")
h.expectLine(out, "  Dagna          -2", "Dagna's change: 1.5 rounds to 2")
h.expectLine(out, "  Cyrielle       +1", "negative balances move toward zero")
h.expectLine(h.run(officer, "/dkp entry nonsense"), "no entry nonsense", "unknown id")

h.noErrors(clients)
print("guilddkp queries: ok")
