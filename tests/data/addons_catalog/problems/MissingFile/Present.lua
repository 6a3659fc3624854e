Present = true
