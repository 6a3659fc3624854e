local x = function(a,
 b) return a.b:c "s" {t = 1} end
local y = (function() end)()
