Officer = {}
