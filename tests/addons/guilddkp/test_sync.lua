-- GuildDKP: identical across clients, whatever order entries arrive in. The clients are offline
-- (their ledgers' sync cannot run); entries written on several of them are copied between their
-- ledgers in scrambled orders with tally.share (through each ledger's remote queue and
-- authorization), and every client ends with the same state. Back online, sync agrees.
-- Run: tally run addons --clients 4 --script tests/addons/guilddkp/test_sync.lua
local h = dofile(debug.getinfo(1, "S").source:sub(2):match("^(.*)/") .. "/helpers.lua")
local clients = tally.clients()
local aelric, brannoc, cyrielle, dagna = clients[1], clients[2], clients[3], clients[4]

if type(tally.share) ~= "function" then
  print("note: tally.share is not in this host yet; the identical-across-clients test is skipped")
  return
end

for _, c in ipairs(clients) do
  c:set_online(false)
  c:run([[Won = 0
    Tally.RegisterMessage("GUILDDKP_AUCTION_WON", function() Won = Won + 1 end)]])
end

-- Two officers write on their own clients; a member bids from hers.
h.run(aelric, "/dkp roster import")
h.run(aelric, "/dkp award raid 10 boss_kill Onyxia")
h.run(aelric, "/dkp auction open 19019 Thunderfury open min=5")
tally.share(aelric, brannoc, "GuildDKP")
tally.share(aelric, dagna, "GuildDKP")
tally.advance(1)
h.run(brannoc, "/dkp roster add Dagnabank PRIEST")
h.run(brannoc, "/dkp alt Dagnabank Dagna")
h.run(brannoc, "/dkp award Dagnabank 5 on_time")
-- Brannoc hears Cyrielle call a bid of 50; Aelric, the auctioneer, does not have it yet.
h.expectLine(h.run(brannoc, "/dkp bidfor Cyrielle 50 1"), "Cyrielle bid 50", "Brannoc records a bid")
tally.advance(2)
h.run(dagna, "/dkp bid 30")
tally.share(dagna, aelric, "GuildDKP")
tally.advance(1)
local out = h.run(aelric, "/dkp auction close 1")
h.expectLine(out, "won by Dagna for 30", "Aelric closes with the bids he has")
tally.advance(1)
h.run(brannoc, "/dkp decay 10")
local typo = h.idIn(h.run(aelric, "/dkp award Brannoc 300 manual"))
h.run(aelric, "/dkp undo " .. typo)
h.run(aelric, "/dkp adjust Cyrielle -4 penalty late")
tally.advance(1)

-- Every client sends its whole ledger to every other, each copy in its own random order.
local seed = 1
for round = 1, 2 do
  for _, from in ipairs(clients) do
    for _, to in ipairs(clients) do
      if from ~= to then
        tally.share(from, to, "GuildDKP", seed)
        seed = seed + 1
      end
    end
  end
  tally.advance(2)
end

local adler, fingerprint, lag = aelric:eval("return GuildDKP.StateHash()")
h.expect(lag, 0, "Aelric caught up")
local standings = h.standingsText(aelric)
local _, dagnaHistory = aelric:eval("return GuildDKP.History('Dagnabank')")
for _, c in ipairs(clients) do
  local a, f, l = c:eval("return GuildDKP.StateHash()")
  h.expect(l, 0, c:name() .. " caught up")
  h.expect(a, adler, c:name() .. ": same state hash")
  h.expect(f, fingerprint, c:name() .. ": same content fingerprint")
  h.expect(h.standingsText(c), standings, c:name() .. ": same standings")
  local _, hist = c:eval("return GuildDKP.History('Dagna')")
  h.expect(#hist, #dagnaHistory, c:name() .. ": same history length")
  for i = 1, #hist do
    h.expect(hist[i].id, dagnaHistory[i].id, c:name() .. ": history entry " .. i)
    h.expect(hist[i].b, dagnaHistory[i].b, c:name() .. ": running balance " .. i)
  end
end

-- The close stands as recorded; the bid Aelric did not have is shown, on every client.
for _, c in ipairs(clients) do
  local a = c:eval("return GuildDKP.Auction(1)")
  h.expect(a.winner, "Dagna", c:name() .. ": the recorded winner stands")
  h.expect(a.mismatch, "the bids in this ledger give Cyrielle for 50", c:name() .. ": the missed bid is visible")
end
h.expectLine(h.run(brannoc, "/dkp auction show 1"), "note: the bids in this ledger give Cyrielle for 50", "shown by /dkp auction show")

-- Only the client that closed the auction announced it; replaying received entries did not.
h.expect(aelric:eval("return Won"), 1, "Aelric announced once")
for i = 2, 4 do h.expect(clients[i]:eval("return Won"), 0, clients[i]:name() .. " did not announce") end

-- The same entries again change nothing.
tally.share(brannoc, cyrielle, "GuildDKP", 99)
tally.advance(1)
h.expect((cyrielle:eval("return GuildDKP.StateHash()")), adler, "duplicates are no-ops")

-- Online again, the ledgers' sync finds every client holding the same entries.
for _, c in ipairs(clients) do c:set_online(true) end
tally.advance(60)
for _, c in ipairs(clients) do
  h.expect(c:eval("return GuildDKP.SyncStatus().state"), "synced", c:name() .. ": sync agrees")
  h.expect((c:eval("return GuildDKP.StateHash()")), adler, c:name() .. ": sync changed nothing")
end
h.expectLine(h.run(dagna, "/dkp sync"), "GuildDKP: sync synced", "/dkp sync says so")

h.noErrors(clients)
print("guilddkp sync: ok")
