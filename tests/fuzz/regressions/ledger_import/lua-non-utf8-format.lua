V = { format = "tally\160ledger" }
