-- Outside every addon folder of tests/data/addons_hostile: the malicious tocs point here, and
-- the hostile suite fails if this ever runs.
OutsideRan = true
