-- The programming model on top of a ledger: commands, queries, reports, repositories with
-- subscriptions, and sagas (Tally.Model). Runs once per client after ledger_api.lua and uses
-- only the ledger API addons see, plus the host's safecall.
local host, internal = ...

local type, tostring, error, pcall, pairs, ipairs, next, select, setmetatable =
  type, tostring, error, pcall, pairs, ipairs, next, select, setmetatable
local strformat, strfind, tsort = string.format, string.find, table.sort
local safecall = internal.safecall

local Model = {}
local model_meta = { __index = Model, __metatable = "Tally model" }
local private = setmetatable({}, { __mode = "k" })

-- The entry type whose entries record that a saga acted on a trigger (see Model:Saga).
local SAGA_TYPE = "__saga"

local step_done  -- defined at the end: the work after each replay step

local function self_of(self, method)
  local m = private[self]
  if not m then error("Usage: model:" .. method .. "(...): not a model", 3) end
  return m
end

------------------------------------------------------------------------------------------------
-- Plain-data helpers

local function copy(value)
  if type(value) ~= "table" then return value end
  local out = {}
  for k, v in next, value do out[k] = copy(v) end
  return out
end

local function same(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for k, v in next, a do
    if not same(v, b[k]) then return false end
  end
  for k in next, b do
    if a[k] == nil then return false end
  end
  return true
end

------------------------------------------------------------------------------------------------
-- Argument specs: { name = "number" | "string" | "boolean" | "table", optional with "?" }

local function check_args(spec, args)
  if type(args) ~= "table" then return false, "arguments must be a table" end
  for name, want in pairs(spec) do
    local optional = strfind(want, "?", 1, true) ~= nil
    local kind = optional and want:sub(1, -2) or want
    local value = args[name]
    if value == nil then
      if not optional then return false, "missing argument '" .. name .. "'" end
    elseif type(value) ~= kind then
      return false, strformat("argument '%s' must be a %s, got a %s", name, kind, type(value))
    end
  end
  for name in pairs(args) do
    if spec[name] == nil then return false, "unknown argument '" .. tostring(name) .. "'" end
  end
  return true
end

------------------------------------------------------------------------------------------------
-- Tally.Model(ledger)

-- Tally.Model(ledger) -> model: commands, queries, reports, repositories and sagas over `ledger`.
function Tally.Model(ledger)
  if type(ledger) ~= "table" or type(ledger.Submit) ~= "function" then error("Usage: Tally.Model(ledger)", 2) end
  local m = {
    ledger = ledger, commands = {}, queries = {}, reports = {}, repositories = {}, sagas = {},
    wrapped = {},     -- entry type -> { user mutator, observers }
    pending = {},     -- saga triggers applied in this step
    issued = {},      -- trigger id -> true: this client already acted on it
    restarted = false,
    live = ledger:State(),  -- the ledger's state table (replaced when replay starts over)
  }
  local object = setmetatable({}, model_meta)
  private[object] = m
  m.object = object
  ledger:On("restart", function()
    m.restarted = true
    m.live = ledger:State()
    m.pending = {}  -- the replay that follows observes them again
  end)
  ledger:RegisterMutator(SAGA_TYPE, function(state, data)
    local done = state.__sagas
    if not done then
      done = {}
      state.__sagas = done
    end
    done[data.cause] = data.saga
  end)
  ledger:On("stateChanged", function() step_done(m) end)
  return object
end

-- Every mutator of a type the model observes runs through one wrapper that also tells the
-- observers (reports, repositories, sagas) what was applied.
local function wrapper(m, entry_type)
  local w = m.wrapped[entry_type]
  if w then return w end
  w = { observers = {} }
  w.apply = function(state, data, meta)
    if w.user then w.user(state, data, meta) end
    if state ~= m.live then return end  -- a batch's preview (ledger:Batch): not applied
    local observers = w.observers
    for i = 1, #observers do observers[i](state, data, meta) end
  end
  m.wrapped[entry_type] = w
  m.ledger:RegisterMutator(entry_type, w.apply)
  return w
end

local function observe(m, entry_type, observer)
  local w = wrapper(m, entry_type)
  w.observers[#w.observers + 1] = observer
end

-- model:Mutator(type, fn [, { revision = n, upcasters = {...} }]): the ledger's mutator for
-- `type`, registered through the model so that reports, repositories and sagas observing the
-- type see its entries (upcast to the current revision, as the mutator does). Use it instead of
-- ledger:RegisterMutator for every type the model observes (registering on the ledger directly
-- would bypass the observers). Registering again replays with the new mutator.
function Model:Mutator(entry_type, fn, options)
  local m = self_of(self, "Mutator")
  if type(entry_type) ~= "string" or type(fn) ~= "function" then
    error("Usage: model:Mutator(type, function(state, data, meta) [, { revision = n, upcasters = {...} }])", 2)
  end
  local w = wrapper(m, entry_type)
  w.user = fn
  m.ledger:RegisterMutator(entry_type, w.apply, options)
end

------------------------------------------------------------------------------------------------
-- Commands

-- model:Command(name, { args = spec, authorize = fn(state, args, player) -> ok, reason,
--                       handler = fn(state, args, emit) -> [false, reason] })
function Model:Command(name, definition)
  local m = self_of(self, "Command")
  if type(name) ~= "string" or type(definition) ~= "table" or type(definition.handler) ~= "function" then
    error("Usage: model:Command(name, { args = {...}, authorize = fn, handler = fn(state, args, emit) })", 2)
  end
  m.commands[name] = definition
end

local function execute(m, name, args, cause)
  local command = m.commands[name]
  if not command then return nil, "no command '" .. tostring(name) .. "'" end
  args = args or {}
  if command.args then
    local ok, reason = check_args(command.args, args)
    if not ok then return nil, name .. ": " .. reason end
  end
  local state = m.ledger:State()
  if command.authorize then
    local ok, allowed, reason = pcall(command.authorize, state, args, host.player_name)
    if not ok then return nil, name .. ": authorize failed: " .. tostring(allowed) end
    if not allowed then return nil, reason or (name .. ": not authorized") end
  end
  -- The emitted entries form one ledger batch: each is checked as it is emitted (emit returns
  -- the id it will get, for later entries to refer to), and they are written together or not
  -- at all, each authorized against the state with the command's earlier entries applied.
  local batch = m.ledger:Batch()
  local function emit(entry_type, data)
    local ok, id = pcall(batch.Add, batch, entry_type, data)
    if not ok then error((tostring(id):gsub("^batch:Add: ", "")), 2) end
    return id
  end
  local ok, result, reason = pcall(command.handler, state, args, emit)
  if not ok then return nil, name .. ": " .. tostring(result) end
  if result == false then return nil, reason or (name .. ": refused") end
  if cause then
    local added, err = pcall(batch.Add, batch, SAGA_TYPE, { cause = cause.id, saga = cause.saga })
    if not added then return nil, name .. ": " .. tostring(err) end
  end
  return batch:Submit()
end

-- model:Execute(name, args) -> ids of the emitted entries | nil, reason (nothing was written)
function Model:Execute(name, args)
  return execute(self_of(self, "Execute"), name, args, nil)
end

------------------------------------------------------------------------------------------------
-- Queries and reports

-- model:Query(name, fn(state, ...)) defines a read-only query; model:Ask(name, ...) runs it.
function Model:Query(name, fn)
  local m = self_of(self, "Query")
  if type(name) ~= "string" or type(fn) ~= "function" then error("Usage: model:Query(name, function(state, ...))", 2) end
  m.queries[name] = fn
end

function Model:Ask(name, ...)
  local m = self_of(self, "Ask")
  local query = m.queries[name]
  if not query then error("model:Ask: no query '" .. tostring(name) .. "'", 2) end
  return query(m.ledger:State(), ...)
end

-- model:Report(name, { inputs = { "award", ... }, compute = fn(state) }): a value derived from
-- the state, recomputed lazily, only after an entry of one of its input types was applied (or
-- replay started over). model:Value(name) reads it.
function Model:Report(name, definition)
  local m = self_of(self, "Report")
  if type(name) ~= "string" or type(definition) ~= "table" or type(definition.compute) ~= "function"
    or type(definition.inputs) ~= "table" then
    error("Usage: model:Report(name, { inputs = { types... }, compute = function(state) })", 2)
  end
  local report = { compute = definition.compute, dirty = true, computed = 0 }
  m.reports[name] = report
  for _, input in ipairs(definition.inputs) do
    observe(m, input, function() report.dirty = true end)
  end
end

-- model:Value(name) -> the report's value, and how many times it was computed so far
function Model:Value(name)
  local m = self_of(self, "Value")
  local report = m.reports[name]
  if not report then error("model:Value: no report '" .. tostring(name) .. "'", 2) end
  if report.dirty then
    report.value = report.compute(m.ledger:State())
    report.dirty = false
    report.computed = report.computed + 1
  end
  return report.value, report.computed
end

------------------------------------------------------------------------------------------------
-- Repositories and subscriptions

-- model:Repository(name, { types = {...}, key = fn(data, meta) -> key, get = fn(state, key) })
-- -> repository. Entities are what get returns; they count as changed when an entry of one of
-- the types applies with their key. repo:Get(key); repo:Subscribe([key,] fn(changes)) where
-- changes = { [key] = entity } once per replay step that changed something (never in the middle
-- of a rewind); after a rewind, subscribers get the entities whose value actually differs.
local Repository = {}
local repository_meta = { __index = Repository }

function Model:Repository(name, definition)
  local m = self_of(self, "Repository")
  if type(name) ~= "string" or type(definition) ~= "table" or type(definition.key) ~= "function"
    or type(definition.get) ~= "function" or type(definition.types) ~= "table" then
    error("Usage: model:Repository(name, { types = {...}, key = fn(data, meta), get = fn(state, key) })", 2)
  end
  local repo = setmetatable({ m = m, key = definition.key, get = definition.get, changed = {},
                              subscribers = {}, delivered = {} }, repository_meta)
  m.repositories[name] = repo
  for _, t in ipairs(definition.types) do
    observe(m, t, function(_, data, meta)
      local ok, key = pcall(repo.key, data, meta)
      if ok and key ~= nil then repo.changed[key] = true end
    end)
  end
  return repo
end

function Repository:Get(key) return self.get(self.m.ledger:State(), key) end

function Repository:Subscribe(key, fn)
  if fn == nil then key, fn = nil, key end
  if type(fn) ~= "function" then error("Usage: repository:Subscribe([key,] function(changes))", 2) end
  self.subscribers[#self.subscribers + 1] = { key = key, fn = fn }
end

-- After a step: the changed entities, compared with what subscribers last saw.
function Repository:deliver(full)
  local state = self.m.ledger:State()
  local keys = self.changed
  self.changed = {}
  if full then
    -- A rewind replaced the state: anything delivered before may have changed.
    for key in pairs(self.delivered) do keys[key] = true end
  end
  local changes, any = {}, false
  for key in pairs(keys) do
    local value = copy(self.get(state, key))
    if not same(value, self.delivered[key]) then
      changes[key] = value
      self.delivered[key] = value
      any = true
    end
  end
  if not any then return end
  for _, s in ipairs(self.subscribers) do
    if s.key == nil then
      safecall(s.fn, changes)
    elseif changes[s.key] ~= nil then
      safecall(s.fn, { [s.key] = changes[s.key] })
    end
  end
end

------------------------------------------------------------------------------------------------
-- Sagas

-- model:Saga(name, { on = type, actor = fn(data, meta) -> bool, run = fn(state, data, meta) ->
-- command, args }): when an entry of type `on` is applied, the client for which actor(...) is
-- true runs the command, once per triggering entry. The default actor is the trigger's creator.
-- Exactly once: the command's entries are written together with a "__saga" entry naming the
-- trigger; its mutator marks the trigger done in state.__sagas, so a rewind, a restart or
-- another client holding the ledger sees it done and does not act again.
function Model:Saga(name, definition)
  local m = self_of(self, "Saga")
  if type(name) ~= "string" or type(definition) ~= "table" or type(definition.on) ~= "string"
    or type(definition.run) ~= "function" then
    error("Usage: model:Saga(name, { on = type, actor = fn(data, meta), run = fn(state, data, meta) })", 2)
  end
  local saga = { name = name, actor = definition.actor, run = definition.run }
  m.sagas[name] = saga
  observe(m, definition.on, function(_, data, meta)
    m.pending[#m.pending + 1] = { saga = saga, data = copy(data), id = meta.id, creator = meta.creator,
                                  time = meta.time }
  end)
end

-- Sagas act only when replay has caught up and nothing received waits: a trigger's "__saga"
-- entry sorts after it, so before that the ledger cannot tell whether it was already handled.
local function run_sagas(m)
  if #m.pending == 0 then return end
  local unapplied, uncommitted = m.ledger:Lag()
  if unapplied > 0 or uncommitted > 0 then return end
  local pending = m.pending
  m.pending = {}
  local state = m.ledger:State()
  local done = state.__sagas or {}
  for _, trigger in ipairs(pending) do
    local saga = trigger.saga
    local cause = trigger.id .. "/" .. saga.name
    if not done[cause] and not m.issued[cause] then
      local meta = { id = trigger.id, creator = trigger.creator, time = trigger.time }
      local acts
      if saga.actor then
        local ok, result = pcall(saga.actor, trigger.data, meta)
        acts = ok and result
      else
        acts = trigger.creator == host.player_id
      end
      if acts then
        local ok, command, args = pcall(saga.run, state, trigger.data, meta)
        if ok and command then
          m.issued[cause] = true
          local ids, reason = execute(m, command, args, { id = cause, saga = saga.name })
          if not ids then host.log_error("saga " .. saga.name .. ": " .. tostring(reason)) end
        elseif not ok then
          host.log_error("saga " .. saga.name .. ": " .. tostring(command))
        end
      end
    end
  end
end

-- Once per replay step that applied something (the ledger's stateChanged).
step_done = function(m)
  local full = m.restarted
  m.restarted = false
  for _, repo in pairs(m.repositories) do repo:deliver(full) end
  if full then
    for _, report in pairs(m.reports) do report.dirty = true end
  end
  run_sagas(m)
end
