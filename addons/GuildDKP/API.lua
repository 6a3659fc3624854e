-- GuildDKP: the global GuildDKP table, read-only questions for other addons, macros and tests.
local _, ns = ...

local function state()
  if not ns.ledger then return nil end
  return (ns.state())
end

GuildDKP = {}

-- GuildDKP.Balance("Dagna") -> points of the character's main (0 when unknown), main's name
function GuildDKP.Balance(name)
  local s = state()
  if not s then return nil end
  local main = ns.mainOf(s, ns.normalizeName(name) or "")
  return s.points[main] or 0, main
end

-- -> array of { name, class, points, alts } in standings order (copies)
function GuildDKP.Standings()
  if not state() then return nil end
  local out = {}
  for i, row in ipairs(ns.currentStandings()) do
    out[i] = { name = row.name, class = row.class, points = row.points, alts = row.alts }
  end
  return out
end

-- -> main, array of { id, t, d, b, r, n } (copies)
function GuildDKP.History(name)
  local s = state()
  if not s then return nil end
  local main, rows = ns.historyOf(s, ns.normalizeName(name) or "")
  local out = {}
  for i, h in ipairs(rows) do out[i] = { id = h.id, t = h.t, d = h.d, b = h.b, r = h.r, n = h.n } end
  return main, out
end

-- -> a copy of an auction's public fields (amounts of open sealed bids left out), or nil
function GuildDKP.Auction(ref)
  local s = state()
  if not s then return nil end
  local a = ns.findAuction(s, ref and tostring(ref))
  if not a then return nil end
  return { id = a.id, num = a.num, item = a.item, itemId = a.itemId, mode = a.mode, status = a.status,
    min = a.min, cap = a.cap, zerosum = a.zerosum, winner = a.winner, price = a.price, closeId = a.closeId,
    mismatch = a.mismatch }
end

-- -> the lines "/dkp entry <id>" prints
function GuildDKP.Describe(id)
  if not ns.ledger then return nil end
  return ns.describeEntry(id)
end

-- -> the ledger's state hash and content fingerprint, entries pending replay
function GuildDKP.StateHash()
  if not ns.ledger then return nil end
  local adler, fingerprint = ns.ledger:StateHash()
  return adler, fingerprint, (ns.ledger:Lag())
end

-- -> entries in the ledger (ignored ones and undo entries included)
function GuildDKP.Size()
  if not ns.ledger then return nil end
  return ns.ledger:Size()
end

-- -> the ledger's sync status (ledger:SyncStatus(): state, peers, counters), or nil
function GuildDKP.SyncStatus()
  if not ns.ledger then return nil end
  return ns.ledger:SyncStatus()
end

-- Point operations, as the slash commands run them: one command each (PointsModel.lua), written
-- whole or not at all. -> ids of the entries written | nil, reason
--   GuildDKP.Award{ kind = "player"|"raid"|"standby", names = { ... }, amount, reason, note?,
--                   classes? (raid: name -> class file, for members the roster does not know) }
--   GuildDKP.Adjust{ player, amount, reason, note }
--   GuildDKP.Decay{ percent, skipNegative? }
local function operation(command)
  return function(args)
    if not ns.model then return nil, "GuildDKP is not loaded" end
    return ns.execute(command, args)
  end
end
GuildDKP.Award = operation("award")
GuildDKP.Adjust = operation("adjust")
GuildDKP.Decay = operation("decay")

-- For tools that import history (tools/season): GuildDKP.Backdate(t) makes the entries this
-- client submits take time t (and replay show only entries up to t) until Backdate(nil).
-- Not for play: every peer rewinds to insert an entry older than its newest ones.
function GuildDKP.Backdate(t)
  if not ns.ledger then return nil end
  if t then ns.ledger:TravelTo(t) else ns.ledger:StopTravel() end
  return true
end
