-- The ledger API addons use (Tally.NewLedger) and the trusted replay loop behind it. Runs once
-- per client after game_api.lua; `ffi` reaches this file only, never addon code, and mutators
-- get plain Lua values, never cdata.
local host, internal, ffi = ...

local type, tostring, tonumber, error, pcall, ipairs, next, setmetatable, getmetatable =
  type, tostring, tonumber, error, pcall, ipairs, next, setmetatable, getmetatable
local tconcat, tsort, strformat, strfind, unpack, floor = table.concat, table.sort, string.format, string.find, unpack, math.floor
local safecall = internal.safecall
local disabled = internal.disabled  -- functions stopped for running too long (game_api.lua)
local replay_as = internal.replay_as
-- Captured before the sandbox removes them from the globals. `load` compiles the replay's own
-- generated code without the runaway ticks that `loadstring` inserts into addon code (the
-- mutators it calls carry their own).
local jit_flush, getinfo, load = jit.flush, debug.getinfo, load

-- Layouts of bindings/replay_batch.hpp.
ffi.cdef [[
typedef struct {
  uint32_t timestamp; uint32_t creator; uint16_t realm; uint16_t shape_id; uint16_t first_value;
  uint16_t counter;
} tally_replay_record;
typedef struct { const tally_replay_record* records; const double* values; uint32_t news; } tally_replay_batch;
typedef size_t (*tally_fetch_fn)(void*, size_t, tally_replay_batch*);
typedef void (*tally_commit_fn)(void*, size_t);
]]

local fetched = ffi.new("tally_replay_batch")

-- LuaJIT records the loop's trace (appliers and mutators inlined) while it first runs. At the
-- start of a replay from nothing the state is empty, so the trace takes the "new key" side of
-- branches like `(points[name] or 0)`, and it is specialised to the appliers of that moment;
-- later entries leave it for side traces that re-enter the loop from its top, several times
-- slower (docs/runaway-scripts.md, the trace-shape effect). So all traces are dropped once
-- REFLUSH_AFTER entries into each replay from nothing, and re-recorded on the steady path. All,
-- not just the loop's: flushing everything also resets LuaJIT's hot counters, so the loop
-- becomes hot again before the functions it calls; otherwise a mutator can start a trace of
-- its own, which the loop then calls through, at a third of the speed.
local REFLUSH_AFTER = 8192

local IGNORE_TYPE = "__ignore"
local ledgers = {}          -- every ledger of this client, in creation order
local private = setmetatable({}, { __mode = "k" })  -- ledger object -> its private record

local Ledger = {}
local ledger_meta = { __index = Ledger, __metatable = "Tally ledger" }

------------------------------------------------------------------------------------------------
-- Replay

local function fire(p, event, ...)
  local list = p.listeners[event]
  if not list then return end
  for i = 1, #list do safecall(list[i], ...) end
end

local function fresh_state(p)
  if p.initial_state then
    local ok, state = pcall(p.initial_state)
    if ok and type(state) == "table" then return state end
  end
  return {}
end

-- A copy of plain data: tables copied (shared tables stay shared, cycles kept), metatables
-- and everything else by reference; a protected metatable (getmetatable gives no table)
-- cannot be carried over and is left out.
local function deepcopy(value, memo)
  if type(value) ~= "table" then return value end
  local copy = memo[value]
  if copy then return copy end
  copy = {}
  memo[value] = copy
  for k, v in next, value do copy[deepcopy(k, memo)] = deepcopy(v, memo) end
  local mt = getmetatable(value)
  if type(mt) == "table" then setmetatable(copy, mt) end
  return copy
end

-- Replay starts over from the newest checkpoint at or before `position` (0: from nothing).
-- A failed replay is retried (the change may have fixed it) unless `keep_failure` is set.
local function rewind_to(p, position, keep_failure)
  local from, dropped = p.binding:rewind(position)
  for i = 1, #dropped do p.snapshots[dropped[i]] = nil end
  if from > 0 then
    p.state = deepcopy(p.snapshots[from], {})
  else
    p.state = fresh_state(p)
    p.reflush_at = REFLUSH_AFTER
  end
  if not keep_failure then p.failed = nil end
  p.since_checkpoint_ms = 0
  fire(p, "restart", p.object)
end

-- After a batch: a snapshot of the state when the policy asks for one.
local function maybe_checkpoint(p, batch_ms)
  p.since_checkpoint_ms = p.since_checkpoint_ms + batch_ms
  if not p.binding:checkpoint_due(p.since_checkpoint_ms) then return end
  local started = p.binding.clock_ms()
  local snapshot = deepcopy(p.state, {})
  local at, dropped = p.binding:take_checkpoint(p.binding.clock_ms() - started)
  for i = 1, #dropped do p.snapshots[dropped[i]] = nil end
  p.snapshots[at] = snapshot
  p.since_checkpoint_ms = 0
end

-- Whether a mutator can see its third argument: when it declares fewer parameters and no
-- `...`, meta is never filled for it.
local function wants_meta(mutator)
  local info = getinfo(mutator, "u")
  return info.isvararg or info.nparams >= 3
end

-- Schema revisions. An entry carries the revision of its type that its writer knew. Replay
-- hands the mutator the fields of the type's current revision: an older entry's fields go
-- through the type's upcasters (revision n -> n + 1, chained) first; the stored entry, its key
-- and content hash never change. An entry at a revision newer than this client knows is kept,
-- synced and counted in the state hash, but not applied: replay records it (ledger:NewerEntries,
-- the unknownRevision event) and applies it once a newer mutator is registered. All of this is
-- decided per shape (type, revision, field layout), so entries at the current revision pay
-- nothing for it.

-- The upcasters of `entry_type` from revision `from` to the current one, as one function:
-- fields of revision `from` -> fields of the current revision. An error (or a result that is
-- not a table) stops replay at the entry like a mutator error, named after the upcaster.
local function upcast_chain(p, entry_type, from)
  local upcasters, current = p.upcasters[entry_type], p.revisions[entry_type]
  return function(data, meta)
    for n = from, current - 1 do
      local ok, result = pcall(upcasters[n], data, meta)
      if not ok then
        error(strformat("upcaster of '%s' from revision %d failed: %s", entry_type, n, tostring(result)), 0)
      end
      if type(result) ~= "table" then
        error(strformat("upcaster of '%s' from revision %d returned a %s, not the fields of revision %d",
                        entry_type, n, type(result), n + 1), 0)
      end
      data = result
    end
    return data
  end
end

-- An entry's id from its key, as the binding writes it (ledger_binding.cpp).
local function entry_id(time, counter, realm, creator)
  return strformat("%08x-%02x-%04x-%08x", time, counter, realm, creator)
end

-- The applier of a shape at a revision newer than the type's: the entry is not applied, only
-- noted (by id: a rewind meets it again without noting it twice).
local function newer_applier(p, shape)
  local entry_type, revision = shape.type, shape.revision
  return function(_, r)
    local id = entry_id(r.timestamp, r.counter, r.realm, r.creator)
    if p.newer[id] then return end
    local entry = { id = id, type = entry_type, revision = revision }
    p.newer[id] = entry
    p.newer_count = p.newer_count + 1
    p.newer_met[#p.newer_met + 1] = entry
  end
end

-- The applier of one shape: copies an entry's values into the shape's data table (and its key
-- into meta when the mutator takes it) and calls the mutator. One generated function per shape
-- and mutator, so each call site in a trace sees one field layout and one mutator. An entry at
-- an older revision gets a fresh data table (upcasters may keep or change it) and goes through
-- the upcasters first. False when the type has no mutator.
local function compile_applier(p, shape)
  local mutator = p.mutators[shape.type]
  if not mutator then
    p.appliers[shape.id] = false
    return
  end
  local current = p.revisions[shape.type]
  if shape.revision > current then
    p.appliers[shape.id] = newer_applier(p, shape)
    return
  end
  local upcasting = shape.revision < current
  local lines = {
    "local strings, data, meta, mutator, upcast = ...",
    "return function(state, r, values)",
    "local first = r.first_value",
  }
  if upcasting then lines[#lines + 1] = "local data = {}" end
  for i, name in ipairs(shape.fields) do
    local kind = shape.kinds[i]
    local read = "values[first + " .. (i - 1) .. "]"
    if kind == "string" then read = "strings[" .. read .. "]"
    elseif kind == "boolean" then read = "(" .. read .. " ~= 0)" end
    lines[#lines + 1] = strformat("data[%q] = %s", name, read)
  end
  if upcasting or wants_meta(mutator) then
    lines[#lines + 1] = strformat(
      "meta.time, meta.creator, meta.counter, meta.realm, meta.type = r.timestamp, r.creator, r.counter, r.realm, %q",
      shape.type)
  end
  if upcasting then lines[#lines + 1] = "data = upcast(data, meta)" end
  lines[#lines + 1] = "return mutator(state, data, meta) end"
  local chunk = load(tconcat(lines, "\n"), "=(tally replay shape)", "t")
  p.appliers[shape.id] = chunk(p.strings, shape.data, p.meta, mutator,
                               upcasting and upcast_chain(p, shape.type, shape.revision) or nil)
end

local function sync_tables(p)
  local strings = p.binding:new_strings()
  local base = #p.strings
  for i = 1, #strings do p.strings[base + i] = strings[i] end
  for _, shape in ipairs(p.binding:new_shapes()) do
    shape.data = {}
    p.shapes[shape.id] = shape
    compile_applier(p, shape)
  end
end

-- meta.id is built only when a mutator asks for it.
local meta_meta = {
  __index = function(meta, key)
    if key == "id" then
      return entry_id(meta.time, meta.counter, meta.realm, meta.creator)
    end
  end,
}

-- The loop over one fetched batch. at[1] is the index of the entry being applied, so a failure
-- can say where it stopped.
local function replay_loop(appliers, state, records, values, n, at)
  for i = 0, n - 1 do
    local r = records[i]
    local apply = appliers[r.shape_id]
    if apply then
      at[1] = i
      apply(state, r, values)
    end
  end
end

-- Applies up to `count` entries; returns how many were applied, and the error of the entry
-- that failed (the count then points at it).
local function apply_batch(p, count)
  local n = tonumber(p.fetch(p.handle, count, fetched))
  if n == 0 then return 0 end
  if fetched.news ~= 0 then sync_tables(p) end
  local at = { 0 }
  local ok, err = pcall(replay_loop, p.appliers, p.state, fetched.records, fetched.values, n, at)
  local done = ok and n or at[1]
  local failed_shape = not ok and fetched.records[done].shape_id or nil
  p.commit(p.handle, done)
  if p.reflush_at and p.binding:applied() >= p.reflush_at then
    p.reflush_at = nil
    jit_flush()
  end
  if not ok then return done, err, failed_shape end
  return done
end

local function is_kill(message)
  return type(message) == "string" and strfind(message, "script ran too long", 1, true) ~= nil
end

-- Replay never goes past the entry a mutator failed on.
local function replay_limit(p)
  local target, failed = p.binding:target(), p.failed
  if failed and failed.position < target then return failed.position end
  return target
end

-- The loop will fetch up to `count` entries next: when they are many, the decode thread decodes
-- them ahead (docs/replay-design.md, "Decoding ahead").
local function decode_ahead(p, count)
  local room = replay_limit(p) - p.binding:applied()
  p.binding:decode_ahead(room < count and room or count)
end

-- The failed entry was partly applied: the state goes back to the newest checkpoint before it,
-- and replay catches up to the entry boundary in the next steps, then waits there.
local function roll_back_failure(p)
  rewind_to(p, p.failed.position, true)
  p.failed.rolled_back = true
  fire(p, "mutatorFailed", p.object, tostring(p.failed.error))
end

-- A mutator that ran too long is not called again: until RegisterMutator replaces it, entries
-- of its type fail at once, stopping replay as an erroring mutator does.
local function disable_mutator(p, shape_id)
  local entry_type = p.shapes[shape_id].type
  local message = "mutator for '" .. entry_type .. "' is disabled: it ran too long"
  p.mutators[entry_type] = function() error(message, 0) end
  for _, shape in next, p.shapes do
    if shape.type == entry_type then compile_applier(p, shape) end
  end
end

-- A mutator (of the entry's shape) failed at the entry replay stopped on. A kill travels on to
-- the host at once (no more addon code may run in this call); its rollback happens at the next
-- frame.
local function mutator_failed(p, err, shape_id)
  p.failed = { position = p.binding:applied(), error = err, size = p.binding:size() }
  if is_kill(err) then
    disable_mutator(p, shape_id)
    error(err .. " (this mutator is disabled until RegisterMutator replaces it)", 0)
  end
  roll_back_failure(p)
end

-- Before replaying: finish a pending rollback; then, when the ledger changed since the failure
-- (an ignore, a late entry, anything that may fix it), try the failed entry again.
local function settle_failure(p)
  local failed = p.failed
  if not failed then return end
  if not failed.rolled_back then roll_back_failure(p) end
  if p.binding:size() ~= failed.size then p.failed = nil end
end

-- Applies up to `want` entries in sub-batches that end at checkpoint boundaries and fit the
-- record arrays (one planned batch is one step, however it is split). Returns how many were
-- applied, and the error of the entry that failed.
local function run_batch(p, want)
  local b = p.binding
  local total = 0
  decode_ahead(p, want)
  while total < want do
    local n = replay_limit(p) - b:applied()
    if n <= 0 then break end
    if n > want - total then n = want - total end
    local room = b:events_to_checkpoint()
    if n > room then n = room end
    local started = b.clock_ms()
    local done, err, failed_shape = apply_batch(p, n)
    total = total + done
    if err then return total, err, failed_shape end
    if done == 0 then break end
    maybe_checkpoint(p, b.clock_ms() - started)
  end
  return total
end

-- authorize(entry, sender, stage [, state]): at "submit", `state` is the state the entry will
-- be applied to (the ledger's, or for a batch's later entries a preview, see Ledger:Batch).
local function authorized(p, entry, sender, stage, state)
  local authorize = p.authorize
  if not authorize then return true end
  if disabled[authorize] then return false, "authorize is disabled: it ran too long" end
  local ok, allowed, reason = pcall(authorize, entry, sender, stage, state)
  if not ok then
    if is_kill(allowed) then
      -- Stop here (the entry stays undecided); from now on every entry is refused.
      disabled[authorize] = true
      error(allowed .. " (this authorize function is disabled: entries are refused)", 0)
    end
    return false, "authorize failed: " .. tostring(allowed)
  end
  if not allowed then return false, reason or "not authorized" end
  return true
end

-- Received entries are authorized (stage "receive") and committed before replay: with a frame
-- budget, for up to half of it; without, batchSize entries per frame. True when it did work.
local function commit_remote(p, frame_start, unlimited)
  local b = p.binding
  if b:remote_pending() == 0 then return false end
  local knobs = b:knobs()
  local max, ms = knobs.batchSize, 1e9
  if unlimited then
    max = 1e15
  elseif knobs.frameBudgetMs > 0 then
    max, ms = 1e15, knobs.frameBudgetMs / 2
  end
  if not p.authorize then
    b:remote_accept_until(max, ms)
    return true
  end
  local deadline = frame_start + ms
  local n = 0
  while n < max do
    if n % 16 == 15 and b.clock_ms() >= deadline then break end
    local entry, sender = b:remote_front()
    if not entry then break end
    b:remote_decide((authorized(p, entry, sender, "receive")))
    n = n + 1
  end
  return true
end

-- The replay part of a frame: rewinds, then batches while the planner allows. True when it
-- applied something.
local function replay_steps(p, now, frame_start)
  local b = p.binding
  local rewind = b:take_rewind()
  if rewind then rewind_to(p, rewind) end
  settle_failure(p)
  if b:applied() >= replay_limit(p) then return false end
  if not b:begin_frame(now) then return false end
  local spent, applied_any = b.clock_ms() - frame_start, false
  decode_ahead(p, b:frame_events(spent))  -- the frame's batches as one range
  while true do
    local want = b:next_batch(spent)
    if want <= 0 then break end
    local started = b.clock_ms()
    local done, err, failed_shape = run_batch(p, want)
    local finished = b.clock_ms()
    spent = finished - frame_start
    if done > 0 then
      applied_any = true
      b:record_batch(done, finished - started, now)
    end
    if err then
      mutator_failed(p, err, failed_shape)
      break
    end
    if done < want then break end  -- caught up, or at a failed entry
  end
  return applied_any
end

-- After replay: unknownRevision(ledger, entries) with the entries at a newer revision that
-- replay met for the first time.
local function report_newer(p)
  if #p.newer_met == 0 then return end
  local met = p.newer_met
  p.newer_met = {}
  fire(p, "unknownRevision", p.object, met)
end

-- One frame for one ledger: received entries, then replay; the frame's time goes to metrics.
local function replay_frame(p, now)
  local b = p.binding
  local frame_start = b.clock_ms()
  local committed = commit_remote(p, frame_start)
  local applied = replay_steps(p, now, frame_start)
  if committed or applied then b:record_frame(b.clock_ms() - frame_start) end
  if applied then
    report_newer(p)
    fire(p, "stateChanged", p.object)
  end
end

function internal.replay(now)
  for i = 1, #ledgers do
    local p = private[ledgers[i]]
    replay_as(p.owner, p.name, replay_frame, p, now)  -- the time counts for the ledger's addon
  end
end

------------------------------------------------------------------------------------------------
-- The API

Tally = {}

------------------------------------------------------------------------------------------------
-- Messages between addons: one addon announces something (GuildDKP: "an auction was won"), others
-- listen, without reaching into each other's tables. Receivers run at once, in the order they
-- registered; an error in one goes to the error handler and the others still run.

local receivers = {}  -- message name -> array of handles

-- Tally.RegisterMessage(message, fn) -> handle; fn(message, ...) for every SendMessage.
function Tally.RegisterMessage(message, fn)
  if type(message) ~= "string" or message == "" or type(fn) ~= "function" then
    error("Usage: Tally.RegisterMessage(message, function(message, ...))", 2)
  end
  local handle = { message = message, fn = fn }
  local list = receivers[message] or {}
  list[#list + 1] = handle
  receivers[message] = list
  return handle
end

-- Tally.UnregisterMessage(handle) -> true when the handle was registered
function Tally.UnregisterMessage(handle)
  local list = type(handle) == "table" and receivers[handle.message]
  if not list then return false end
  for i = 1, #list do
    if list[i] == handle then
      table.remove(list, i)
      return true
    end
  end
  return false
end

-- Tally.SendMessage(message, ...) -> how many receivers it reached
function Tally.SendMessage(message, ...)
  if type(message) ~= "string" or message == "" then error("Usage: Tally.SendMessage(message, ...)", 2) end
  local list = receivers[message]
  if not list then return 0 end
  local snapshot = { unpack(list) }  -- receivers may (un)register while it is delivered
  for i = 1, #snapshot do safecall(snapshot[i].fn, message, ...) end
  return #snapshot
end

local function check_self(self, method)
  local p = private[self]
  if not p then error("Usage: ledger:" .. method .. "(...): not a ledger", 3) end
  return p
end

-- Tally.NewLedger{ name = "GuildDKP", persist = true, authorize = fn, initialState = fn,
--                  batchSize = 50, interval = 0.5, frameBudgetMs = 2 }
function Tally.NewLedger(options)
  if type(options) ~= "table" or type(options.name) ~= "string" or options.name == "" then
    error("Usage: Tally.NewLedger{ name = \"...\" [, persist, authorize, initialState, batchSize, interval, frameBudgetMs] }", 2)
  end
  if options.authorize ~= nil and type(options.authorize) ~= "function" then
    error("Tally.NewLedger: authorize must be a function", 2)
  end
  if options.initialState ~= nil and type(options.initialState) ~= "function" then
    error("Tally.NewLedger: initialState must be a function returning a table", 2)
  end
  for _, l in ipairs(ledgers) do
    if private[l].name == options.name then error("Tally.NewLedger: a ledger named '" .. options.name .. "' exists", 2) end
  end
  local binding = host.ledger_new(options.name, options.persist and true or false)
  binding:knobs({ batchSize = options.batchSize, interval = options.interval, frameBudgetMs = options.frameBudgetMs })
  if options.checkpointEvery ~= nil then
    if type(options.checkpointEvery) ~= "number" then error("Tally.NewLedger: checkpointEvery must be a number", 2) end
    binding:checkpoints(options.checkpointEvery, 0, options.checkpointsKept or 32)
  end
  local fetch, commit, handle = binding:ffi()
  local object = setmetatable({}, ledger_meta)
  local p = {
    name = options.name, binding = binding, object = object, owner = internal.caller_owner(),
    fetch = ffi.cast("tally_fetch_fn", fetch), commit = ffi.cast("tally_commit_fn", commit),
    handle = ffi.cast("void*", handle),  -- a light userdata argument would keep FFI calls out of traces
    authorize = options.authorize, initial_state = options.initialState,
    mutators = {}, shapes = {}, appliers = { [0] = false }, strings = {}, listeners = {}, snapshots = {},
    revisions = setmetatable({}, { __index = function() return 1 end }),  -- type -> current revision
    upcasters = {},  -- type -> { [n] = upcaster from revision n to n + 1 }
    newer = {}, newer_count = 0,  -- entries at a newer revision than their type's: id -> entry; how many
    newer_met = {},               -- those not reported yet (unknownRevision)
    since_checkpoint_ms = 0,
    meta = setmetatable({}, meta_meta), reflush_at = REFLUSH_AFTER,
  }
  p.state = fresh_state(p)
  private[object] = p
  ledgers[#ledgers + 1] = object
  if options.sync then
    -- sync = true, or { prefix = "...", protocol = "tally", lanes = 3 }: the prefix defaults
    -- to the name.
    local sync = type(options.sync) == "table" and options.sync or {}
    local lanes = sync.lanes or 3
    local prefix = sync.prefix or ("T:" .. options.name):sub(1, lanes > 1 and 15 or 16)
    if type(prefix) ~= "string" then error("Tally.NewLedger: sync.prefix must be a string", 2) end
    host.ledger_sync(binding, prefix, sync.protocol or "tally", lanes)
  end
  return object
end

-- The revision options of RegisterMutator -> revision, upcasters (a copy); raises naming the
-- problem.
local function revision_options(entry_type, options)
  if options == nil then return 1, {} end
  if type(options) ~= "table" then error("ledger:RegisterMutator: options must be a table { revision =, upcasters = }", 3) end
  local revision = options.revision == nil and 1 or options.revision
  if type(revision) ~= "number" or revision ~= floor(revision) or revision < 1 or revision > 255 then
    error("ledger:RegisterMutator: revision of '" .. entry_type .. "' must be a whole number 1..255, got " .. tostring(revision), 3)
  end
  local given = options.upcasters or {}
  if type(given) ~= "table" then error("ledger:RegisterMutator: upcasters must be a table { [n] = function(data, meta) }", 3) end
  local upcasters = {}
  for n = 1, revision - 1 do
    if type(given[n]) ~= "function" then
      error(strformat("ledger:RegisterMutator: '%s' at revision %d needs upcasters[%d], a function from revision %d to %d",
                      entry_type, revision, n, n, n + 1), 3)
    end
    upcasters[n] = given[n]
  end
  for n in next, given do
    if upcasters[n] == nil then
      error(strformat("ledger:RegisterMutator: upcasters[%s] of '%s' is not a revision below %d", tostring(n), entry_type, revision), 3)
    end
  end
  return revision, upcasters
end

-- ledger:RegisterMutator(type, function(state, data, meta) ... end [, { revision = n,
--   upcasters = { [1] = function(data, meta) -> fields of revision 2, ... } }])
function Ledger:RegisterMutator(entry_type, mutator, options)
  local p = check_self(self, "RegisterMutator")
  if type(entry_type) ~= "string" or type(mutator) ~= "function" then
    error("Usage: ledger:RegisterMutator(type, function(state, data, meta) [, { revision = n, upcasters = {...} }])", 2)
  end
  if entry_type == IGNORE_TYPE then error("ledger:RegisterMutator: '" .. IGNORE_TYPE .. "' is reserved", 2) end
  local revision, upcasters = revision_options(entry_type, options)
  local replaced = p.mutators[entry_type] ~= nil
  p.mutators[entry_type] = mutator
  p.revisions[entry_type], p.upcasters[entry_type] = revision, upcasters
  -- Entries of this type at a revision it did not know: replay below meets them again.
  for id, entry in next, p.newer do
    if entry.type == entry_type then
      p.newer[id] = nil
      p.newer_count = p.newer_count - 1
    end
  end
  for _, shape in next, p.shapes do
    if shape.type == entry_type then compile_applier(p, shape) end
  end
  -- Entries of this type may already be applied without (or with another) mutator.
  if replaced or p.binding:applied() > 0 or p.failed then rewind_to(p, 0) end
end

-- The time a new entry takes: the travel time while travelling, else now.
local function entry_time(p)
  return p.binding:travel_time() or host.server_time()
end

-- ledger:Submit(type, data) -> id | nil, reason
function Ledger:Submit(entry_type, data)
  local p = check_self(self, "Submit")
  if type(entry_type) ~= "string" or (data ~= nil and type(data) ~= "table") then
    error("Usage: ledger:Submit(type, data)", 2)
  end
  local time = entry_time(p)
  local revision = p.revisions[entry_type]
  local entry = { type = entry_type, data = data or {}, time = time, creator = host.player_id, revision = revision }
  local ok, reason = authorized(p, entry, host.player_name, "submit", p.state)
  if not ok then return nil, reason end
  return p.binding:insert(entry_type, data or {}, time, host.player_id, revision)
end

------------------------------------------------------------------------------------------------
-- Batches: entries written together or not at all.

local Batch = {}
local batch_meta = { __index = Batch, __metatable = "Tally batch" }
local batches = setmetatable({}, { __mode = "k" })  -- batch object -> its private record

-- ledger:Batch() -> batch. batch:Add(type, data) -> the id the entry will get (nothing is
-- written yet); batch:Submit() -> ids | nil, reason, index of the refused entry.
function Ledger:Batch()
  local p = check_self(self, "Batch")
  local batch = setmetatable({}, batch_meta)
  local time = entry_time(p)
  batches[batch] = { p = p, time = time, creator = host.player_id,
                     first = p.binding:next_counter(time, host.player_id), entries = {} }
  return batch
end

local function check_batch(self, method)
  local b = batches[self]
  if not b then error("Usage: batch:" .. method .. "(...): not a batch", 3) end
  if b.submitted then error("batch:" .. method .. ": the batch was already submitted", 3) end
  return b
end

-- The entry is checked as insert would (type name, field names and values, size) and copied.
function Batch:Add(entry_type, data)
  local b = check_batch(self, "Add")
  if type(entry_type) ~= "string" or (data ~= nil and type(data) ~= "table") then
    error("Usage: batch:Add(type, data)", 2)
  end
  if entry_type == IGNORE_TYPE then error("batch:Add: '" .. IGNORE_TYPE .. "' entries are written by ledger:Ignore", 2) end
  local ok, reason = pcall(b.p.binding.check, b.p.binding, entry_type, data or {})
  if not ok then error("batch:Add: " .. tostring(reason), 2) end
  local counter = b.first and b.first + #b.entries
  if not counter or counter > 255 then error("batch:Add: more than 256 entries by one creator in one second", 2) end
  local id = entry_id(b.time, counter, 0, b.creator)  -- this client writes realm 0
  b.entries[#b.entries + 1] = { id = id, type = entry_type, data = deepcopy(data or {}, {}), time = b.time,
                                creator = b.creator, counter = counter, revision = b.p.revisions[entry_type] }
  return id
end

-- Runs an entry's mutator on a preview of the state (no observer may take it for the ledger's).
local function preview(p, state, e)
  local mutator = p.mutators[e.type]
  if not mutator then return true end
  local meta = { id = e.id, time = e.time, creator = e.creator, counter = e.counter, realm = 0, type = e.type }
  return pcall(mutator, state, deepcopy(e.data, {}), meta)
end

-- Every entry is authorized ("submit") against the state it will be applied to: the first
-- against the ledger's state, each later one against a preview with the batch's earlier
-- entries applied by their mutators. Only when all pass is anything written.
function Batch:Submit()
  local b = check_batch(self, "Submit")
  b.submitted = true
  local p, entries = b.p, b.entries
  if #entries > 0 and p.binding:next_counter(b.time, b.creator) ~= b.first then
    return nil, "the ledger changed while the batch was built (an entry was written in between)", 1
  end
  local state = p.state
  for i, e in ipairs(entries) do
    if i == 2 then state = deepcopy(p.state, {}) end
    if i > 1 then
      local ok, err = preview(p, state, entries[i - 1])
      if not ok then
        if is_kill(err) then error(err, 0) end
        return nil, strformat("entry %d (%s) would fail to apply: %s", i - 1, entries[i - 1].type, tostring(err)), i - 1
      end
    end
    local ok, reason = authorized(p, e, host.player_name, "submit", state)
    if not ok then return nil, reason, i end
  end
  -- The checks above are insert's own, so an insert fails here only when the journal does; the
  -- entries written before it are then ignored.
  local ids = {}
  for i, e in ipairs(entries) do
    local ok, id = pcall(p.binding.insert, p.binding, e.type, e.data, e.time, e.creator, e.revision)
    if not ok then
      for j = i - 1, 1, -1 do p.object:Ignore(ids[j]) end
      return nil, "batch:Submit: " .. tostring(id), i
    end
    ids[i] = id
  end
  return ids
end

-- ledger:Ignore(id) -> id of the ignore entry | nil, reason. Ignoring an ignore restores its target.
function Ledger:Ignore(id)
  local p = check_self(self, "Ignore")
  if type(id) ~= "string" then error("Usage: ledger:Ignore(id)", 2) end
  if not p.binding:entry(id) then return nil, "no entry " .. id end
  local entry = { type = IGNORE_TYPE, data = { target = id }, time = host.server_time(), creator = host.player_id, revision = 1 }
  local ok, reason = authorized(p, entry, host.player_name, "submit")
  if not ok then return nil, reason end
  return p.binding:insert(IGNORE_TYPE, { target = id }, entry.time, host.player_id)
end

-- ledger:Entry(id) -> type, data, time, creator, revision (a copy, as stored) | nil
function Ledger:Entry(id)
  local p = check_self(self, "Entry")
  return p.binding:entry(id)
end

function Ledger:State() return check_self(self, "State").state end

-- Commits what was received and applies everything now, ignoring the knobs (for tools and
-- tests; it can stall a frame). Stops at an entry whose mutator fails.
function Ledger:CatchUp()
  local p = check_self(self, "CatchUp")
  local b = p.binding
  commit_remote(p, b.clock_ms(), true)
  local rewind = b:take_rewind()
  if rewind then rewind_to(p, rewind) end
  settle_failure(p)
  local failures = 0
  while b:applied() < replay_limit(p) do
    local started = b.clock_ms()
    local done, err, failed_shape = run_batch(p, 1e15)
    if done > 0 then b:record_batch(done, b.clock_ms() - started, host.precise_time()) end
    if err then
      failures = failures + 1
      mutator_failed(p, err, failed_shape)
      -- After the rollback, once more up to the failed entry; a second failure before it
      -- means the mutators are not deterministic: stop.
      if failures > 1 then break end
    elseif done == 0 then
      break
    end
  end
  report_newer(p)
  fire(p, "stateChanged", self)
end

-- ledger:Lag() -> entries not yet applied, received entries not yet committed
function Ledger:Lag()
  local b = check_self(self, "Lag").binding
  return b:target() - b:applied(), b:remote_pending()
end

-- ledger:StateHash() -> Adler-32 of the applied entries (the reference's), content fingerprint
function Ledger:StateHash()
  return check_self(self, "StateHash").binding:state_hash()
end

function Ledger:Size() return check_self(self, "Size").binding:size() end

-- ledger:NewerEntries() -> { { id, type, revision }, ... } in ledger order: the entries replay
-- met at a revision newer than their type's mutator knows (kept and synced, not applied).
function Ledger:NewerEntries()
  local p = check_self(self, "NewerEntries")
  local list = {}
  for _, entry in next, p.newer do list[#list + 1] = { id = entry.id, type = entry.type, revision = entry.revision } end
  tsort(list, function(a, b) return a.id < b.id end)  -- ids are fixed-width hex in key order
  return list
end

-- ledger:TravelTo(timestamp): replay only entries at or before it; submits take that time.
function Ledger:TravelTo(timestamp)
  local p = check_self(self, "TravelTo")
  if type(timestamp) ~= "number" then error("Usage: ledger:TravelTo(timestamp)", 2) end
  p.binding:travel(timestamp)
end

function Ledger:StopTravel()
  check_self(self, "StopTravel").binding:travel(nil)
end

-- ledger:SetKnobs{ batchSize, interval, frameBudgetMs } -> the knobs now in force
function Ledger:SetKnobs(knobs)
  local p = check_self(self, "SetKnobs")
  if type(knobs) ~= "table" then error("Usage: ledger:SetKnobs{ batchSize =, interval =, frameBudgetMs = }", 2) end
  return p.binding:knobs(knobs)
end

-- ledger:Metrics() -> { events_applied, events_per_second, step_ms = {p50, p95, p99, max, ...},
-- frame_ms = {...}, rewinds = {count, events_total, max_distance}, checkpoints = {...}, lag, ... }
function Ledger:Metrics()
  local p = check_self(self, "Metrics")
  local metrics = p.binding:metrics(host.precise_time())
  metrics.newer_revisions = p.newer_count
  return metrics
end

-- ledger:SyncStatus() -> { state = "synced"|"out of sync"|"unknown", prefix, peers = { [name] =
-- { count, fingerprint, lag, lastSeen, version } }, sent, received, entries, backlog, counters }
-- | nil when the ledger does not sync
function Ledger:SyncStatus()
  return host.ledger_sync_status(check_self(self, "SyncStatus").binding)
end

local function find_ledger(name)
  for i = 1, #ledgers do
    local p = private[ledgers[i]]
    if p.name == name then return p end
  end
end

-- The sync layer's view changed: syncStateChanged(ledger, state).
function internal.sync_state_changed(name, state)
  local p = find_ledger(name)
  if p then fire(p, "syncStateChanged", p.object, state) end
end

-- Before an entry leaves this client: authorize(entry, player, "send").
function internal.authorize_send(name, entry)
  local p = find_ledger(name)
  return p ~= nil and (authorized(p, entry, host.player_name, "send"))
end

local known_events = { stateChanged = true, restart = true, mutatorFailed = true, syncStateChanged = true,
                       unknownRevision = true }

-- ledger:On(event, fn): stateChanged(ledger), restart(ledger), mutatorFailed(ledger, error),
-- syncStateChanged(ledger), unknownRevision(ledger, entries)
function Ledger:On(event, fn)
  local p = check_self(self, "On")
  if not known_events[event] or type(fn) ~= "function" then
    error("Usage: ledger:On(\"stateChanged\"|\"restart\"|\"mutatorFailed\"|\"syncStateChanged\"|\"unknownRevision\", fn)", 2)
  end
  local list = p.listeners[event] or {}
  list[#list + 1] = fn
  p.listeners[event] = list
end
