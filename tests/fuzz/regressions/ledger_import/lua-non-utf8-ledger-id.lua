V = { format = "tally-ledger", version = 1, ledger = "Guild\255DKP", entries = {} }
