-- GuildDKP: point operations as Tally.Model commands. Each is one command emitting every entry
-- it needs, written together or not at all (the ledger authorizes each against the state with
-- the command's earlier entries applied). The slash commands and the GuildDKP API run them.
local _, ns = ...

local KINDS = { player = true, raid = true, standby = true }

local function unknownReason(text)
  return "unknown reason '" .. tostring(text) .. "' (" .. table.concat(ns.REASONS, ", ") .. ")"
end

-- Names the DKP roster does not know (neither members nor linked alts), each once, sorted.
function ns.unknownMembers(state, names)
  local out = {}
  for _, name in ipairs(ns.sortedUnique(names)) do
    if not state.alts[name] and not ns.isMember(state, name) then out[#out + 1] = name end
  end
  return out
end

-- args.names -> normalized names | nil, reason
local function normalizedNames(list)
  local names = {}
  for i, text in ipairs(list) do
    local name = ns.normalizeName(text)
    if not ns.isValidName(name) then return nil, "'" .. tostring(text) .. "' is not a character name" end
    names[i] = name
  end
  if #names == 0 then return nil, "an award needs at least one player" end
  return names
end

-- "award" { kind = "player"|"raid"|"standby", names = { ... }, amount, reason, note?, classes? }
-- A raid award first adds the raid members the roster does not know, with their class from
-- `classes` (name -> class file; UNKNOWN when missing). A list too long for one entry is split
-- into parts; parts after the first name it in `batch`.
local function awardHandler(state, args, emit)
  if not KINDS[args.kind] then return false, "award kind must be player, raid or standby" end
  local reason = ns.reasonCode(args.reason)
  if not reason then return false, unknownReason(args.reason) end
  local names, problem = normalizedNames(args.names)
  if not names then return false, problem end
  if args.kind == "raid" then
    local items, classes = {}, args.classes or {}
    for _, name in ipairs(ns.unknownMembers(state, names)) do
      items[#items + 1] = name .. ":" .. (ns.CLASSES[classes[name] or ""] and classes[name] or "UNKNOWN")
    end
    for _, chunk in ipairs(ns.packList(items)) do emit("member", chunk) end
  end
  local chunks = ns.packList(names)
  local first
  for i, chunk in ipairs(chunks) do
    chunk.amount, chunk.reason, chunk.kind, chunk.note = args.amount, reason, args.kind, args.note
    if #chunks > 1 then chunk.part, chunk.parts, chunk.batch = i, #chunks, first end
    local id = emit("award", chunk)
    first = first or id
  end
end

-- "adjust" { player, amount (signed), reason, note }
local function adjustHandler(_, args, emit)
  local reason = ns.reasonCode(args.reason)
  if not reason then return false, unknownReason(args.reason) end
  emit("adjust", { player = ns.normalizeName(args.player), amount = args.amount, reason = reason, note = args.note })
end

-- "decay" { percent, skipNegative? }
local function decayHandler(_, args, emit)
  emit("decay", { percent = args.percent, rounding = "nearest", skipNegative = args.skipNegative or nil })
end

function ns.defineCommands(model)
  model:Command("award", {
    args = { kind = "string", names = "table", amount = "number", reason = "string", note = "string?",
             classes = "table?" },
    authorize = ns.commandRight("award"),
    handler = awardHandler,
  })
  model:Command("adjust", {
    args = { player = "string", amount = "number", reason = "string", note = "string?" },
    authorize = ns.commandRight("adjust"),
    handler = adjustHandler,
  })
  model:Command("decay", {
    args = { percent = "number", skipNegative = "boolean?" },
    authorize = ns.commandRight("decay"),
    handler = decayHandler,
  })
end

-- Runs a command against a caught-up state -> ids | nil, reason (printed).
function ns.execute(command, args)
  local _, lag = ns.state()
  local ids, reason
  if lag > 0 then
    reason = lag .. " entries still replaying; try again in a moment"
  else
    ids, reason = ns.model:Execute(command, args)
  end
  if not ids then
    print("GuildDKP: refused: " .. tostring(reason))
    return nil, reason
  end
  GuildDKP_Local.last = ids[#ids]
  return ids
end
