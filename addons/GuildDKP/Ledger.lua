-- GuildDKP: the entry-type registry, the ledger built from it, and submitting entries.
local addonName, ns = ...

------------------------------------------------------------------------------------------------
-- Entry types. Each file defines its own: ns.defineEntry(type, { right = ..., validate = ...,
-- apply = ... }).
--   right:    "officer", "guildmaster" or "member" (any guild member; `permit` narrows it)
--   permit:   optional function(data, actor, isOfficer) -> ok, reason (who may, beyond `right`)
--   validate: function(data) -> ok, reason (the payload's shape; no state, so every client
--             judges an entry the same way whenever it arrives)
--   check:    optional function(data, state) -> ok, reason (against the local state the entry
--             will apply to, with its command's earlier entries; only when this client submits:
--             friendly refusals such as "auction 3 is closed")
--   apply:    the mutator, function(state, data, meta, e): sets e.summary, credits through
--             ns.credit(state, e, ...); the entry's log record is written after it

ns.entryTypes = {}

-- The addon-message prefix the ledger's sync uses (the host reserves it for the ledger; the
-- live auction messages in Bidding.lua use "GuildDKP").
ns.SYNC_PREFIX = "GuildDKPLedger"

function ns.defineEntry(entryType, spec)
  assert(type(spec.apply) == "function", "entry type " .. entryType .. " needs apply")
  assert(type(spec.validate) == "function", "entry type " .. entryType .. " needs validate")
  ns.entryTypes[entryType] = spec
end

-- The derived state: plain tables only, keyed by names and entry ids. It is kept small: the
-- ledger deep-copies it into checkpoints, so what grows with every entry (the log) is an array
-- of strings, which copies share.
local function newState()
  return {
    config = { officerRank = ns.DEFAULT_OFFICER_RANK },
    members = {},       -- name -> class file ("MAGE"); the DKP roster
    inactive = {},      -- name -> true: removed from the roster (points and history kept)
    alts = {},          -- alt name -> main name
    points = {},        -- main name -> integer balance
    log = {},           -- one record string per applied entry, in ledger order (below)
    auctions = {},      -- open entry id -> auction table while open, record string once closed
    auctionOrder = {},  -- open entry ids in ledger order; auction number = index
    zeroSumCount = 0,   -- zero-sum auctions closed so far (rotates the remainder)
  }
end

------------------------------------------------------------------------------------------------
-- The log: what each entry changed, for histories, "/dkp entry <id>" and exports. A record is
-- "id TAB type TAB time TAB creator TAB summary" then, per point change, TAB and
-- "name US delta US balance US reason US note" (US = \31). Text is cleaned of control bytes.

local US = "\31"

function ns.clean(text)
  if text == nil then return "" end
  return (gsub(tostring(text), "%c", " "))
end

-- Adds `delta` to a main's balance and notes it in the entry's effect `e`.
function ns.credit(state, e, main, delta, reason, note)
  if delta == 0 then return end
  local balance = (state.points[main] or 0) + delta
  state.points[main] = balance
  e.parts[#e.parts + 1] = table.concat({ main, delta, balance, ns.clean(reason), ns.clean(note) }, US)
end

-- Runs an entry type's apply(state, data, meta, e) and appends the entry's record to the log.
local function logged(apply)
  return function(state, data, meta)
    local e = { summary = "", parts = {} }
    apply(state, data, meta, e)
    local record = table.concat({ meta.id, meta.type, meta.time, meta.creator, ns.clean(e.summary) }, "\t")
    if #e.parts > 0 then record = record .. "\t" .. table.concat(e.parts, "\t") end
    state.log[#state.log + 1] = record
  end
end

-- A log record -> { id, type, t, creator, summary, changes = { { name, d, b, r, n } } }
function ns.parseRecord(record)
  local fields = { strsplit("\t", record) }
  local r = { id = fields[1], type = fields[2], t = tonumber(fields[3]), creator = tonumber(fields[4]),
    summary = fields[5], changes = {} }
  for i = 6, #fields do
    local name, d, b, reason, note = strsplit(US, fields[i])
    r.changes[#r.changes + 1] = { name = name, d = tonumber(d), b = tonumber(b), r = reason, n = note ~= "" and note or nil }
  end
  return r
end

-- The log record of entry `id`, or nil (not applied: ignored, or still replaying).
function ns.findRecord(state, id)
  local prefix = id .. "\t"
  for i = #state.log, 1, -1 do
    local record = state.log[i]
    if strsub(record, 1, #prefix) == prefix then return record end
  end
end

-- The changes to `name` in one record, or nil (a cheap test before parsing).
function ns.touches(record, name)
  return strfind(record, "\t" .. name .. US, 1, true) ~= nil
end

------------------------------------------------------------------------------------------------
-- The ledger

local frame = CreateFrame("Frame")
frame:RegisterEvent("ADDON_LOADED")
frame:SetScript("OnEvent", function(self, _, name)
  if name ~= addonName then return end
  self:UnregisterEvent("ADDON_LOADED")
  GuildDKP_Local = GuildDKP_Local or {}
  GuildDKP_Local.undos = GuildDKP_Local.undos or {}
  GuildDKP_Local.bench = GuildDKP_Local.bench or {}
  GuildDKP_Export = GuildDKP_Export or {}
  local ledger = Tally.NewLedger{
    name = "GuildDKP",
    persist = true,
    -- Every client of the guild holds the same entries: new ones are pushed within seconds,
    -- gaps (a client that was offline) are reconciled. Received entries go through
    -- ns.authorize(entry, sender, "receive") before they count.
    sync = { prefix = ns.SYNC_PREFIX, protocol = "tally" },
    initialState = newState,
    authorize = ns.authorize,
  }
  -- The mutators go through a Tally.Model so that reports know which entries were applied.
  local model = Tally.Model(ledger)
  local names = {}
  for entryType in pairs(ns.entryTypes) do names[#names + 1] = entryType end
  table.sort(names)
  for _, entryType in ipairs(names) do model:Mutator(entryType, logged(ns.entryTypes[entryType].apply)) end
  -- Standings are computed again only after an entry that can change them was applied (or
  -- replay started over), not on every read.
  model:Report("standings", { inputs = ns.STANDINGS_INPUTS, compute = ns.standings })
  ns.defineCommands(model)  -- point operations (PointsModel.lua)
  ledger:On("mutatorFailed", function(_, err) print("GuildDKP: replay stopped: " .. tostring(err)) end)
  ledger:On("stateChanged", function() ns.printNotices() end)
  ns.ledger, ns.model = ledger, model
end)

-- The state, caught up when only a few entries are pending (commands read it right after a
-- submit); a long replay (a fresh login) is left to the frame loop and reported instead.
function ns.state()
  local pending = ns.ledger:Lag()
  if pending > 0 and pending <= 500 then ns.ledger:CatchUp() end
  return ns.ledger:State(), ns.ledger:Lag()
end

-- Submits an entry; prints the id or why it was refused. Returns the id or nil. Checks run
-- against the state, so nothing is submitted while a long replay is still under way.
function ns.submit(entryType, data, quiet)
  local _, lag = ns.state()
  if lag > 0 then
    local reason = lag .. " entries still replaying; try again in a moment"
    print("GuildDKP: refused: " .. reason)
    return nil, reason
  end
  local ok, id, reason = pcall(ns.ledger.Submit, ns.ledger, entryType, data)
  if not ok then
    print("GuildDKP: refused: " .. tostring(id))
    return nil, tostring(id)
  end
  if not id then
    print("GuildDKP: refused: " .. tostring(reason))
    return nil, reason
  end
  GuildDKP_Local.last = id
  if not quiet then print("GuildDKP: recorded " .. entryType .. " " .. id) end
  return id
end
