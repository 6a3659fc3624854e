-- GuildDKP: who may write what. Officers (rank index <= threshold, default 1) manage points,
-- roster, auctions and corrections; members only bid, as themselves; the guild master sets
-- the threshold. Every refusal prints why.
-- Run: tally run addons --clients 6 --script tests/addons/guilddkp/test_authorization.lua
local h = dofile(debug.getinfo(1, "S").source:sub(2):match("^(.*)/") .. "/helpers.lua")
local clients = tally.clients()
local gm, brannoc, cyrielle, dagna, eowald = clients[1], clients[2], clients[3], clients[4], clients[5]

h.expect(dagna:eval("return select(3, GetGuildInfo('player'))"), 3, "Dagna is a member")

-- Every officer action on a member's client is refused, with the reason.
local refusals = {
  { "/dkp roster add Dagna ROGUE", "may not manage the roster: officers only (rank index <= 1)" },
  { "/dkp roster import", "may not manage the roster" },
  { "/dkp award Dagna 10 boss_kill", "may not award points: officers only" },
  { "/dkp award raid 10 boss_kill", "may not award points: officers only" },
  { "/dkp adjust Dagna +10 correction I deserve it", "may not adjust points" },
  { "/dkp decay 10", "may not decay points" },
  { "/dkp alt Dagnabank Dagna", "may not link alts" },
  { "/dkp auction open 19019 Thunderfury", "may not open auctions" },
  { "/dkp config officerrank 3", "may not change the settings: guild master only" },
}
for _, r in ipairs(refusals) do
  h.expectLine(h.run(dagna, r[1]), "refused: Dagna (rank 3, Member) " .. r[2], r[1])
end
h.expect(dagna:eval("return GuildDKP.Balance('Dagna')"), 0, "nothing recorded on the member's client")

-- The same actions from an officer go through.
h.run(brannoc, "/dkp roster import")
h.expectLine(h.run(brannoc, "/dkp award Dagna 10 boss_kill"), "awarded 10", "officer awards")
local award = h.idIn(h.run(brannoc, "/dkp award Eowald 10 boss_kill"))
h.expectLine(h.run(brannoc, "/dkp auction open 19019 Thunderfury"), "auction #1", "officer opens an auction")

-- Ranks are read at every action: promoted, Eowald may award; demoted, he may not even undo
-- his own award.
eowald:set_rank(1)
h.run(eowald, "/dkp roster add Eowald DRUID")
local eowaldAward = h.idIn(h.run(eowald, "/dkp award Eowald 5 manual"))
h.expect(eowaldAward ~= nil, true, "promoted: Eowald may award")
eowald:set_rank(3)
h.expectLine(h.run(eowald, "/dkp undo " .. eowaldAward), "Eowald (rank 3, Member) may not undo or redo entries", "demoted: no undo")
h.expectLine(h.run(eowald, "/dkp award Eowald 5 manual"), "may not award points", "demoted: no awards")

-- Members bid, as themselves only; officers may record a bid for anyone. The auction is
-- sealed: bids are whispered to Brannoc, who opened it.
tally.advance(5)
h.expectLine(h.run(dagna, "/dkp bid 15"), "Dagna's sealed bid of 15 on #1 Thunderfury sent to Brannoc", "members bid")
h.expectLine(h.run(dagna, "/dkp bidfor Eowald 99 1"), "Dagna (rank 3, Member) may not bid: members may bid only as themselves", "no bids for others")
h.expectLine(h.run(brannoc, "/dkp bidfor Eowald 12"), "Eowald bid 12", "officers record bids for others")
tally.advance(2)
h.expectLine(h.run(brannoc, "/dkp auction close 1"), "won by Dagna for 15", "the member's bid reached the auctioneer")
h.expectLine(h.run(dagna, "/dkp auction close 1"), "refused", "members cannot close")

-- The threshold: officers are ranks 0..officerRank; only the guild master changes it, and
-- every client applies it, to its own submits and to what it receives.
h.expectLine(h.run(brannoc, "/dkp config officerrank 3"), "Brannoc (rank 1, Officer) may not change the settings: guild master only", "officers cannot change it")
h.expectLine(h.run(gm, "/dkp config officerrank 0"), "officers are now guild ranks 0..0", "guild master sets 0")
h.expectLine(h.run(gm, "/dkp config"), "officers are guild ranks 0..0", "config shows it")
h.run(gm, "/dkp roster add Dagna ROGUE")
h.expectLine(h.run(gm, "/dkp award Dagna 1 manual"), "awarded", "the guild master still may")
tally.advance(5)
h.expectLine(h.run(brannoc, "/dkp award Dagna 1 manual"), "Brannoc (rank 1, Officer) may not award points: officers only (rank index <= 0)",
  "the threshold reached Brannoc's client")
h.expectLine(h.run(gm, "/dkp config officerrank 9"), "officers are now guild ranks 0..9", "threshold 9")
h.expectLine(h.run(gm, "/dkp config officerrank 10"), "officerRank must be a rank index 0..9", "threshold range")
h.expectLine(h.run(gm, "/dkp config officerrank 1"), "officers are now guild ranks 0..1", "threshold back to 1")
tally.advance(5)

-- Received entries are checked again: the creator (by GUID) must hold the rank now. Brannoc
-- loses his rank while his client is offline and writes an award there; back online, every
-- other client refuses it and says why.
local balance = h.balance(cyrielle, "Dagna")
brannoc:set_online(false)
local late = h.idIn(h.run(brannoc, "/dkp award Dagna 7 manual"))
h.expect(late ~= nil, true, "Brannoc, still an officer, records offline")
brannoc:set_rank(3)
local mark = #cyrielle:log()
brannoc:set_online(true)
tally.advance(60)
local lines = h.since(cyrielle, mark)
h.expectLine(lines, "GuildDKP: refused a award entry from Brannoc-Tally", "receive-stage refusal printed")
h.expectLine(lines, "Brannoc (rank 3, Member) may not award points", "with the reason")
h.expect(h.balance(cyrielle, "Dagna"), balance, "nothing from a demoted officer")
h.expect(h.balance(brannoc, "Dagna"), balance + 7, "his own client keeps what it wrote")

h.noErrors(clients)
print("guilddkp authorization: ok")
