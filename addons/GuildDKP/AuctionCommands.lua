-- GuildDKP: /dkp commands for auctions and bids (the live part is in Bidding.lua).
local _, ns = ...

------------------------------------------------------------------------------------------------
-- Auctions

local function auctionLine(a)
  local bids = a.ranking and #a.ranking or 0
  for _, b in ipairs(a.bids) do
    if b.amount > 0 then bids = bids + 1 end
  end
  if a.status == "open" and a.mode ~= "open" then bids = bids + #ns.sealedBidders(a.id) end
  local result = ""
  if a.status == "closed" then result = string.format(" -> %s for %d", a.winner, a.price) end
  return string.format("#%d %s [%s] %s, min %d%s%s, %d bid(s)%s", a.num, a.item, a.status, a.mode, a.min,
    a.cap > 0 and (", cap " .. a.cap) or "", a.zerosum and ", zero-sum" or "", bids, result)
end

local auctionCommands = {}

function auctionCommands.list()
  local state = ns.state()
  if #state.auctionOrder == 0 then return ns.say("no auctions") end
  for _, id in ipairs(state.auctionOrder) do print(auctionLine(ns.auction(state, id))) end
end

-- Sealed auctions show who bid, not how much, until they are closed.
function auctionCommands.show(ref)
  local state = ns.state()
  local a, reason = ns.findAuction(state, ref)
  if not a then return ns.say(reason) end
  print(auctionLine(a) .. "   [" .. a.id .. "]")
  local hidden = a.status == "open" and a.mode ~= "open"
  if hidden then
    -- Sealed bids wait on the auctioneer's client until the close.
    local names = ns.sealedBidders(a.id)
    print("  sealed until closed; bidders: " .. (#names > 0 and table.concat(names, ", ") or "none"))
  else
    for i, r in ipairs(a.ranking or ns.rankBids(a, state)) do
      print(string.format("  %d. %-12s %d%s", i, r.bidder, r.amount, r.bid ~= r.amount and (" (bid " .. r.bid .. ", capped)") or ""))
    end
  end
  if a.mismatch then print("  note: " .. a.mismatch) end
end

function auctionCommands.open(_, rest) ns.openAuction(rest) end
function auctionCommands.close(ref) ns.closeAuction(ref, false) end
function auctionCommands.cancel(ref) ns.closeAuction(ref, true) end

------------------------------------------------------------------------------------------------
-- Registration

local c = ns.commands
c.auction = function(w, line)
  local handler = auctionCommands[strlower(w[1] or "list")]
  if not handler then return ns.say("/dkp auction open|list|show|close|cancel ...") end
  handler(w[2], strmatch(line, "^%S+%s+(.+)$"))
end
c.bid = function(w) ns.placeBid(w[1], w[2]) end
c.bidfor = function(w) ns.placeBid(w[2], w[3], w[1]) end
