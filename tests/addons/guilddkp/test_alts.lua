-- GuildDKP: alts linked to mains; points live on the main.
-- Run: tally run addons --clients 4 --script tests/addons/guilddkp/test_alts.lua
local h = dofile(debug.getinfo(1, "S").source:sub(2):match("^(.*)/") .. "/helpers.lua")
local clients = tally.clients()
local officer = clients[1]

h.run(officer, "/dkp roster add Dagna ROGUE")
h.run(officer, "/dkp roster add Dagnabank PRIEST")
h.run(officer, "/dkp roster add Dagnalt MAGE")
h.run(officer, "/dkp award Dagna 10 boss_kill")
h.run(officer, "/dkp award Dagnabank 4 manual")

-- Linking moves the alt's points to the main.
local out = h.run(officer, "/dkp alt Dagnabank Dagna")
h.expectLine(out, "Dagnabank is an alt of Dagna", "link")
h.expect(h.balance(officer, "Dagna"), 14, "the alt's points moved to the main")
h.expect(h.balance(officer, "Dagnabank"), 14, "an alt's balance is its main's")
local points = h.points(officer)
h.expect(points.Dagnabank, nil, "alts are not listed in the standings")
h.expectLine(h.run(officer, "/dkp standings"), "alts: Dagnabank", "the main lists its alts")
local lines = officer:eval(string.format("return GuildDKP.Describe(%q)", h.idIn(out)))
h.expectLine(lines, "Dagnabank      -4", "the link moved -4 off the alt")
h.expectLine(lines, "Dagna          +4", "and +4 onto the main")

-- Awards to the alt go to the main; alt and main in one award: credited once.
h.run(officer, "/dkp award Dagnabank 5 on_time")
h.expect(h.balance(officer, "Dagna"), 19, "award to the alt credits the main")
h.run(officer, "/dkp award Dagna,Dagnabank 3 attendance")
h.expect(h.balance(officer, "Dagna"), 22, "main and alt in one award: once")
local main, rows = officer:eval("return GuildDKP.History('Dagnabank')")
h.expect(main, "Dagna", "an alt's history is its main's")
h.expect(rows[#rows - 1].n, "as Dagnabank", "the history says the award came as the alt")

-- Linking to an alt links to that alt's main; the alts of a re-linked main follow it.
h.run(officer, "/dkp alt Dagnalt Dagnabank")
h.expectLine(h.run(officer, "/dkp roster"), "Dagnalt      MAGE      alt of Dagna", "alt of an alt resolves to the main")
h.run(officer, "/dkp roster add Eowald DRUID")
h.run(officer, "/dkp award Eowald 8 boss_kill")
h.run(officer, "/dkp alt Dagna Eowald")
h.expect(h.balance(officer, "Eowald"), 30, "Dagna (and her alts' points) moved to Eowald")
h.expect(officer:eval("return select(2, GuildDKP.Balance('Dagnalt'))"), "Eowald", "Dagna's alts followed")

-- A link that would make a loop is refused.
h.expectLine(h.run(officer, "/dkp alt Eowald Dagna"), "Dagna is an alt of Eowald", "no loops")
h.expectLine(h.run(officer, "/dkp alt Dagna Dagna"), "cannot be its own alt", "no self links")
h.expectLine(h.run(officer, "/dkp alt Zed Nobody"), "Nobody is not in the DKP roster", "main must be in the roster")

-- Unlinking: the alt starts from 0, earned points stay on the main.
h.run(officer, "/dkp unalt Dagnalt")
h.expect(h.balance(officer, "Dagnalt"), 0, "unlinked alt stands alone")
h.expect(h.balance(officer, "Eowald"), 30, "points stay on the main")
h.expectLine(h.run(officer, "/dkp unalt Dagnalt"), "Dagnalt is not linked to a main", "unlink twice")
h.run(officer, "/dkp award Dagnalt 2 manual")
h.expect(h.balance(officer, "Dagnalt"), 2, "unlinked alt earns for itself")

h.noErrors(clients)
print("guilddkp alts: ok")
