-- GuildDKP: loot auctions: open and sealed bids, minimum, cap, ties, second price, zero-sum,
-- members bidding from their own clients (open bids are entries the ledger's sync carries;
-- sealed bids are whispered to the auctioneer), and the GUILDDKP_AUCTION_WON announcement.
-- Run: tally run addons --clients 7 --script tests/addons/guilddkp/test_auctions.lua
local h = dofile(debug.getinfo(1, "S").source:sub(2):match("^(.*)/") .. "/helpers.lua")
local clients = tally.clients()
local officer, brannoc, dagna, eowald, fenwyn, garruk =
  clients[1], clients[2], clients[4], clients[5], clients[6], clients[7]

local function total(client)
  local sum = 0
  for _, points in pairs(h.points(client)) do sum = sum + points end
  return sum
end

h.run(officer, "/dkp roster import")
h.run(officer, "/dkp award Dagna 50 boss_kill")
h.run(officer, "/dkp award Eowald 30 boss_kill")
h.run(officer, "/dkp award Fenwyn,Garruk 10 boss_kill")
for _, c in ipairs({ officer, brannoc }) do
  c:run([[Won = {}
    Tally.RegisterMessage("GUILDDKP_AUCTION_WON", function(_, info) Won[#Won + 1] = info end)]])
end

------------------------------------------------------------------------------------------------
-- 1. Open bids from the members' own clients; a minimum; equal bids go to more points.
local out = h.run(officer, "/dkp auction open |cffa335ee|Hitem:19019::::::::60:::::|h[Thunderfury]|h|r min=10 open boss=Ragnaros")
h.expectLine(out, "auction #1 Thunderfury open (open, min 10)", "auction opened from an item link")
h.expectLine(h.run(dagna, "/dkp bid 20"), "refused: no auction is open", "not synced yet")
tally.advance(5)
h.expectLine(dagna:log(), "Aelric: auction #1 opened: Thunderfury (open, min 10) - /dkp bid <amount> 1", "the raid hears of the auction")
h.expectLine(h.run(eowald, "/dkp bid 20"), "Eowald bid 20 on #1 Thunderfury", "Eowald bids")
h.expectLine(h.run(dagna, "/dkp bid 5"), "refused: 5 is below the minimum bid of 10", "below the minimum")
h.run(dagna, "/dkp bid 20")
tally.advance(5)
h.expectLine(fenwyn:log(), "Eowald bid 20 on auction #1", "open bids are seen by the raid")
h.expectLine(h.run(officer, "/dkp auction show 1"), "2. Eowald       20", "the bids reached the auctioneer")
out = h.run(officer, "/dkp auction close 1")
h.expectLine(out, "auction #1 Thunderfury won by Dagna for 20 (2 bids)", "tie: more points wins")
local close1 = h.idIn(out)
h.expect(h.balance(officer, "Dagna"), 30, "the winner paid her bid")
h.expect(officer:eval("return #Won"), 1, "one announcement")
local won = officer:eval("return Won[1]")
h.expect(won.itemId, 19019, "info.itemId")
h.expect(won.itemName, "Thunderfury", "info.itemName")
h.expect(won.winner, "Dagna", "info.winner")
h.expect(won.price, 20, "info.price")
h.expect(won.entryId, close1, "info.entryId is the closing entry")
h.expect(won.boss, "Ragnaros", "info.boss")
h.expect(won.response, "bid", "info.response")
h.expect(brannoc:eval("return #Won"), 0, "only the closing client announces")
tally.advance(5)
h.expectLine(eowald:log(), "auction #1 (Thunderfury) won by Dagna for 20", "the raid hears the result")
h.expect(brannoc:eval("return #Won"), 0, "the close reached Brannoc by sync; he announces nothing")
h.expectLine(h.run(fenwyn, "/dkp bid 30 1"), "refused: auction #1 Thunderfury is closed", "no bids after the close")

------------------------------------------------------------------------------------------------
-- 2. Sealed: amounts hidden until the close; equal bids and equal points go to the earlier
-- bid, and a raised bid counts from the time of the raise.
h.run(officer, "/dkp auction open 17076 Bonereaver's Edge sealed")
tally.advance(5)
local eowaldMark = #eowald:log()
h.expectLine(h.run(fenwyn, "/dkp bid 15"), "Fenwyn's sealed bid of 15 on #2 Bonereaver's Edge sent to Aelric", "whispered")
tally.advance(1)
h.expectLine(fenwyn:log(), "Aelric holds your sealed bid of 15 on #2 Bonereaver's Edge", "the auctioneer confirms")
h.run(garruk, "/dkp bid 20")
tally.advance(1)
h.run(fenwyn, "/dkp bid 20")
tally.advance(5)
out = h.run(officer, "/dkp auction show 2")
h.expectLine(out, "sealed until closed; bidders: Fenwyn, Garruk", "sealed shows bidders only")
h.expectNoLine(out, "20", "no amounts while sealed")
h.expectLine(h.run(eowald, "/dkp auction show 2"), "sealed until closed; bidders: none", "no client but the auctioneer's holds them")
h.expectNoLine(h.since(eowald, eowaldMark), "Garruk", "other raiders do not see sealed bids")
h.expect(eowald:eval("return GuildDKP.Size()"), officer:eval("return GuildDKP.Size()"), "sealed bids are in no ledger yet")
h.expectLine(h.run(officer, "/dkp auction close 2"), "won by Garruk for 20", "equal bids, equal points: earlier bid")
h.expectLine(h.run(officer, "/dkp auction show 2"), "1. Garruk       20", "amounts shown after the close")
tally.advance(5)
h.expectLine(h.run(eowald, "/dkp auction show 2"), "2. Fenwyn       20", "the bids reached every client with the close")

------------------------------------------------------------------------------------------------
-- 3. A cap: bids above it count as the cap (Eowald 30 and Dagna 40 both count as 25; equal
-- points, so the earlier bid wins). Officers may record bids called out in chat.
h.run(officer, "/dkp auction open 18814 Choker of the Fire Lord min=5 cap=25")
h.run(officer, "/dkp bidfor Eowald 30")
h.expectLine(h.run(officer, "/dkp bidfor Dagna 40"), "(counts as the cap, 25)", "cap noted")
h.expect(h.balance(officer, "Dagna"), h.balance(officer, "Eowald"), "equal points before the tie")
h.expectLine(h.run(officer, "/dkp auction close 3"), "won by Eowald for 25", "capped tie")
h.expect(h.balance(officer, "Eowald"), 5, "Eowald paid the cap")

------------------------------------------------------------------------------------------------
-- 4. Second price (vickrey): the winner pays the second-best bid, or the minimum alone.
h.run(officer, "/dkp auction open 19137 Onslaught Girdle vickrey")
h.run(officer, "/dkp bidfor Dagna 30")
h.run(officer, "/dkp bidfor Fenwyn 12")
h.expectLine(h.run(officer, "/dkp auction close 4"), "won by Dagna for 12", "second price")
h.run(officer, "/dkp auction open 16901 Stormrage Legguards vickrey min=7")
h.run(officer, "/dkp bidfor Fenwyn 9")
h.expectLine(h.run(officer, "/dkp auction close 5"), "won by Fenwyn for 7", "alone: the minimum")

------------------------------------------------------------------------------------------------
-- 5. Zero-sum: the price is shared by the raid (7 here); 20 = 7 x 2 + 6, the remainder goes
-- one point each to 6 names in sorted order starting at position (k mod 7) + 1 (k = 0).
local before = total(officer)
local pointsBefore = h.points(officer)
h.run(officer, "/dkp auction open 19364 Ashkandi zerosum")
h.run(officer, "/dkp bidfor Garruk 20")
out = h.run(officer, "/dkp auction close 6")
h.expectLine(out, "won by Garruk for 20", "zero-sum sale")
h.expect(total(officer), before, "zero-sum: the points in the guild are unchanged")
local after = h.points(officer)
local expected = { Aelric = 3, Brannoc = 3, Cyrielle = 3, Dagna = 3, Eowald = 3, Fenwyn = 3, Garruk = 2 - 20 }
for name, change in pairs(expected) do
  h.expect(after[name] - pointsBefore[name], change, "zero-sum change for " .. name)
end
local lines = officer:eval(string.format("return GuildDKP.Describe(%q)", h.idIn(out)))
local shares, sum = 0, 0
for _, line in ipairs(lines) do
  local delta = tonumber(line:match("^  %S+%s+([-+]%d+)$"))
  if delta then
    sum = sum + delta
    if delta > 0 then shares = shares + delta end
  end
end
h.expect(sum, 0, "the close's changes sum to zero")
h.expect(shares, 20, "the shares sum to the price")

-- The next zero-sum auction starts the remainder one place later: 10 = 7 x 1 + 3 -> Brannoc,
-- Cyrielle, Dagna get the extra point.
pointsBefore = after
h.run(officer, "/dkp auction open 19364 Ashkandi zerosum")
h.run(officer, "/dkp bidfor Fenwyn 10")
h.run(officer, "/dkp auction close 7")
after = h.points(officer)
expected = { Aelric = 1, Brannoc = 2, Cyrielle = 2, Dagna = 2, Eowald = 1, Fenwyn = 1 - 10, Garruk = 1 }
for name, change in pairs(expected) do
  h.expect(after[name] - pointsBefore[name], change, "rotated remainder for " .. name)
end

------------------------------------------------------------------------------------------------
-- 6. Cancelled: no sale, no announcement. A bid that reaches the auctioneer after the close
-- is refused and the bidder is told why.
h.run(officer, "/dkp auction open 18423 Head of Onyxia")
h.expectLine(h.run(officer, "/dkp auction cancel 8"), "closed without a sale", "cancel")
h.run(officer, "/dkp auction open 18205 Eskhandar's Collar min=10")
tally.advance(5)
h.run(eowald, "/dkp bid 15")
h.run(officer, "/dkp auction close 9")
tally.advance(2)
h.expectLine(eowald:log(), "Aelric refused your bid: auction #9 is closed", "late bid refused, bidder told")
h.expectLine(h.run(officer, "/dkp auction show 9"), "[cancelled]", "closed without bids")
h.expect(officer:eval("return #Won"), 7, "one announcement per sale")

-- Replay never announces: undoing an early entry replays every close, and nothing is sent.
h.run(officer, "/dkp undo " .. close1)
h.expect(h.balance(officer, "Dagna") > 0, true, "replayed")
tally.advance(1)
h.expect(officer:eval("return #Won"), 7, "no announcement from replay")
h.expect(officer:eval("return GuildDKP.Auction(1).status"), "open", "undoing the close reopens the auction")

-- Auctions need an item id (other addons key loot by it) and sane limits.
h.expectLine(h.run(officer, "/dkp auction open Mystery Box"), "needs the item's id", "item id required")
h.expectLine(h.run(officer, "/dkp auction open 1234 Box min=10 cap=5"), "cap is below the minimum", "cap below minimum")

h.noErrors(clients)
print("guilddkp auctions: ok")
