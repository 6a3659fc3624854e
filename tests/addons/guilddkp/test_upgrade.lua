-- Second half of guilddkp_upgrade: this GuildDKP replays a journal GuildDKP 0.1 wrote (awards
-- with one player, spends, and decays with 0.1's rounding: the kept balance toward zero).
local h = dofile(debug.getinfo(1, "S").source:sub(2):match("^(.*)/") .. "/helpers.lua")
local clients = tally.clients()
local officer = clients[1]
tally.advance(120)  -- later than every entry of the first session

-- 0.1's decay of 10%: Dagna 10 -> 9, Eowald 14 -> 12 (12.6 kept, toward zero), Fenwyn 30 -> 27.
h.expect(h.balance(officer, "Dagna"), 9, "Dagna from the 0.1 journal")
h.expect(h.balance(officer, "Eowald"), 12, "Eowald from the 0.1 journal (0.1 rounding kept)")
h.expect(h.balance(officer, "Fenwyn"), 27, "Fenwyn from the 0.1 journal")
local _, rows = officer:eval("return GuildDKP.History('Dagna')")
h.expect(#rows, 3, "Dagna's 0.1 history")
h.expect(rows[2].r, "loot", "a 0.1 spend is a purchase")
h.expect(rows[2].n, "Thunderfury", "with its item")

-- New entries go on top; a new decay uses the stated rule (14 -> 13 would be 0.1's 12).
h.run(officer, "/dkp roster import")
h.run(officer, "/dkp roster add Eowald DRUID")
h.run(officer, "/dkp adjust Eowald +2 import level with the example")
h.run(officer, "/dkp decay 10")
h.expect(h.balance(officer, "Eowald"), 13, "the new rule for new decays")
h.expectLine(h.run(officer, "/dkp history Eowald"), "decay       10%", "history continues")

h.noErrors(clients)
print("guilddkp upgrade: ok")
