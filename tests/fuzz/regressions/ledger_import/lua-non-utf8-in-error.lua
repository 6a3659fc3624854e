V = { format = "tally-ledger", version = 1, ledger = "", entries = { { ts = 1, counter = 0, creator = 2, type = "award", rev = "\255" } } }
